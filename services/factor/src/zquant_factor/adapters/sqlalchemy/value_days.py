"""A block's dates as a bitmap of the days of its year: bit `d` (least significant bit first) of the 46 bytes is
set when 1 January + `d` days is one of the block's dates. A year of trade dates as int32 day numbers took
~1000 bytes of a ~3000-byte block; as a bitmap it takes 46, so a heap page holds three blocks instead of two and
a full calculation writes a third less. Dates within a year are unique and ascending, so nothing is lost."""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np

BITMAP_BYTES = 46
"""366 days rounded up to whole bytes."""
UNIX_EPOCH = dt.date(1970, 1, 1)
"""Day 0 of the store's day numbers."""


def day_number(day: dt.date) -> int:
    return (day - UNIX_EPOCH).days


def new_year_day(year: int) -> int:
    """1 January of `year` as days since 1970-01-01."""
    return day_number(dt.date(year, 1, 1))


def days_bitmap(year: int, days: np.ndarray) -> bytes:
    """The bitmap of `days` (day numbers since 1970-01-01, all in `year`)."""
    offsets = np.asarray(days, dtype=np.int64) - new_year_day(year)
    if offsets.size and (offsets.min() < 0 or offsets.max() >= 366):
        raise ValueError(f"dates outside {year}")
    bits = np.zeros(BITMAP_BYTES * 8, dtype=np.uint8)
    bits[offsets] = 1
    return np.packbits(bits, bitorder="little").tobytes()


@functools.lru_cache(maxsize=4096)
def bitmap_days(year: int, bitmap: bytes) -> np.ndarray:
    """The day numbers (ascending, int64, read-only) a bitmap of `year` holds. Cached: a column's blocks of a
    year almost all hold the same dates, so a read of thousands of blocks decodes a few bitmaps."""
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    days = np.flatnonzero(bits).astype(np.int64) + new_year_day(year)
    days.setflags(write=False)
    return days


def united_bitmaps(first: bytes, second: bytes) -> bytes:
    """The bitmap of the dates of either."""
    return (np.frombuffer(first, dtype=np.uint8) | np.frombuffer(second, dtype=np.uint8)).tobytes()
