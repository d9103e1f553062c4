"""The packed per-(series, year) value block, without I/O: a series is one (factor, column, stock), and its
year is two byte strings, the dates (a bitmap of the year's days, `value_days`) and the values (float64
little-endian, NaN kept, in the dates' order).

A write of a dates × codes panel becomes one block per (year, code) it touches. A block whose dates all
follow the stored block's is appended to it (the daily case); one that overlaps is merged with it (new
values win, dates united). A panel so costs a row per series-year instead of a row per value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from zquant_factor.adapters.sqlalchemy.value_days import UNIX_EPOCH, bitmap_days, days_bitmap, united_bitmaps

VALUE_TYPE = np.dtype("<f8")

StoredBlock = tuple[np.ndarray, np.ndarray]
"""(int64 day numbers ascending, float64 values) of one decoded block."""
BlockKey = tuple[str, int, str]
"""(column_name, year, ts_code) of a block within one factor."""
StoredRows = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(code position per value, datetime64[D] date per value, float64 value) of a read, in any order."""
BlockRow = tuple[str, int, bytes, bytes]
"""(ts_code, year, trade_days, packed_values) of a stored block."""
SeriesPiece = tuple[str, np.ndarray, np.ndarray]
"""(ts_code, int64 day numbers ascending, float64 values) of part of one series: a block or a journal slice."""


@dataclass(frozen=True, slots=True)
class PackedBlock:
    column: str
    year: int
    ts_code: str
    trade_days: bytes
    packed_values: bytes
    first_day: int
    last_day: int
    """Day numbers (since 1970-01-01) of its first and last date."""

    def followed_by(self, after: PackedBlock) -> PackedBlock:
        """This block with `after` (same key, all its dates later) appended."""
        return PackedBlock(
            self.column,
            self.year,
            self.ts_code,
            united_bitmaps(self.trade_days, after.trade_days),
            self.packed_values + after.packed_values,
            self.first_day,
            after.last_day,
        )

    def with_dates_of(self, stored_days: bytes) -> PackedBlock:
        """This block's bitmap united with the stored one it is appended to (the values stay its own)."""
        united = united_bitmaps(stored_days, self.trade_days)
        return PackedBlock(
            self.column, self.year, self.ts_code, united, self.packed_values, self.first_day, self.last_day
        )


def _packed(column: str, year: int, code: str, days: np.ndarray, values: np.ndarray) -> PackedBlock:
    return PackedBlock(
        column,
        year,
        code,
        days_bitmap(year, days),
        values.astype(VALUE_TYPE).tobytes(),
        int(days[0]),
        int(days[-1]),
    )


def decoded(rows: Iterable[tuple[str, int, str, bytes, bytes]]) -> dict[BlockKey, StoredBlock]:
    """(column_name, year, ts_code, trade_days, packed_values) rows as decoded blocks by their key."""
    return {(column, year, code): decode(year, days, values) for column, year, code, days, values in rows}


def decode(year: int, trade_days: bytes, packed_values: bytes) -> StoredBlock:
    days = bitmap_days(year, bytes(trade_days))
    values = np.frombuffer(packed_values, dtype=VALUE_TYPE).astype(np.float64)
    if days.size != values.size:
        raise ValueError(f"a block of {year} has {days.size} dates and {values.size} values")
    return days, values


def pieces_of(rows: Iterable[BlockRow]) -> list[SeriesPiece]:
    """Stored block rows decoded."""
    return [(code, *decode(year, days, values)) for code, year, days, values in rows]


def years_of(days: np.ndarray) -> np.ndarray:
    """The calendar year of each datetime64[D]."""
    return np.asarray(days).astype("datetime64[Y]").astype(np.int64) + 1970


@dataclass(frozen=True, slots=True)
class BlockGroup:
    """One column's blocks of one year for many codes, cut from one panel: the same dates, a row of values
    per code. A bulk insert encodes a group at once instead of block by block."""

    column: str
    year: int
    days: np.ndarray
    """int64 day numbers, ascending."""
    codes: list[str]
    values: np.ndarray
    """float64 little-endian, codes × days, C-contiguous."""

    @property
    def trade_days(self) -> bytes:
        return days_bitmap(self.year, self.days)

    def block_keys(self) -> list[BlockKey]:
        return [(self.column, self.year, code) for code in self.codes]

    def subset(self, keep: np.ndarray) -> BlockGroup:
        """The group's blocks of the codes where `keep` (a bool per code) is true."""
        codes = [code for code, kept in zip(self.codes, keep.tolist(), strict=True) if kept]
        return BlockGroup(self.column, self.year, self.days, codes, self.values[keep])

    def blocks(self) -> list[PackedBlock]:
        day_bytes, first, last = self.trade_days, int(self.days[0]), int(self.days[-1])
        return [
            PackedBlock(self.column, self.year, code, day_bytes, row.tobytes(), first, last)
            for code, row in zip(self.codes, self.values, strict=True)
        ]


def panel_groups(column: str, codes: Sequence[str], days: np.ndarray, panel: np.ndarray) -> list[BlockGroup]:
    """Column `column`'s `panel` (len(days) × len(codes), days datetime64[D] ascending) as one group per year."""
    numbers = np.asarray(days).astype("datetime64[D]").astype(np.int64)
    years = years_of(days)
    return [
        BlockGroup(
            column,
            year,
            numbers[years == year],
            list(codes),
            np.ascontiguousarray(panel[years == year].T, dtype=VALUE_TYPE),
        )
        for year in np.unique(years).tolist()
    ]


def panel_blocks(column: str, codes: Sequence[str], days: np.ndarray, panel: np.ndarray) -> list[PackedBlock]:
    """Column `column`'s `panel` as one block per (year, code)."""
    return [block for group in panel_groups(column, codes, days, panel) for block in group.blocks()]


@dataclass(frozen=True, slots=True)
class PanelWrite:
    """A write's checked panels: float64 dates × codes per column, `days` datetime64[D] ascending."""

    codes: list[str]
    days: np.ndarray
    panels: dict[str, np.ndarray]

    @property
    def columns(self) -> list[str]:
        return sorted(self.panels)

    def groups(self) -> list[BlockGroup]:
        return [
            group
            for column, panel in self.panels.items()
            for group in panel_groups(column, self.codes, self.days, panel)
        ]


def checked_panels(codes: Sequence[str], dates: np.ndarray, panels: Mapping[str, np.ndarray]) -> PanelWrite:
    days = np.asarray(dates).astype("datetime64[D]")
    checked = {column: np.asarray(values, dtype=np.float64) for column, values in panels.items()}
    for panel in checked.values():
        if days.ndim != 1 or panel.shape != (days.size, len(codes)):
            raise ValueError(f"values must be dates × codes = ({days.size}, {len(codes)}), got {panel.shape}")
    if len(set(codes)) != len(codes):
        raise ValueError("codes repeat")
    if days.size > 1 and not (np.diff(days.astype(np.int64)) > 0).all():
        raise ValueError("dates must be ascending and unique")
    return PanelWrite(list(codes), days, checked)


def panel_of(rows: StoredRows, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(dates, values dates × codes) from stored rows, NaN where a code has no value on a date."""
    positions, days, values = rows
    if days.size == 0:
        return np.array([], dtype="datetime64[D]"), np.empty((0, width))
    dates = np.unique(days)
    panel = np.full((dates.size, width), np.nan)
    panel[np.searchsorted(dates, days), positions] = values
    return dates, panel


def block_row(factor_id: str, block: PackedBlock) -> tuple[object, ...]:
    """A block as a `value_blocks` row, columns in `BLOCK_COLUMNS` order."""
    last_date = UNIX_EPOCH + dt.timedelta(days=block.last_day)
    return (
        factor_id,
        block.column,
        block.year,
        block.ts_code,
        last_date,
        block.trade_days,
        block.packed_values,
    )


def key(block: PackedBlock) -> BlockKey:
    return block.column, block.year, block.ts_code


def merged(block: PackedBlock, stored: StoredBlock) -> PackedBlock:
    """The stored block with `block` written over it: dates united, `block`'s values where both have one."""
    old_days, old_values = stored
    days, values = decode(block.year, block.trade_days, block.packed_values)
    if old_days.size and old_days[-1] < days[0]:
        united_days, united_values = np.concatenate([old_days, days]), np.concatenate([old_values, values])
        return _packed(block.column, block.year, block.ts_code, united_days, united_values)
    united = np.union1d(old_days, days)
    result = np.full(united.size, np.nan)
    result[np.searchsorted(united, old_days)] = old_values
    result[np.searchsorted(united, days)] = values
    return _packed(block.column, block.year, block.ts_code, united, result)


def rows_of_pieces(
    pieces: Iterable[SeriesPiece], codes: Sequence[str], first_day: int, last_day: int
) -> StoredRows:
    """The values of the pieces dated `first_day` ≤ day ≤ `last_day` (day numbers since 1970-01-01), each
    with its code's position in `codes`."""
    position = {code: index for index, code in enumerate(codes)}
    index_parts: list[np.ndarray] = []
    day_parts: list[np.ndarray] = []
    value_parts: list[np.ndarray] = []
    for code, block_days, block_values in pieces:
        inside = (block_days >= first_day) & (block_days <= last_day)
        count = int(np.count_nonzero(inside))
        if count == 0:
            continue
        index_parts.append(np.full(count, position[code], dtype=np.int64))
        day_parts.append(block_days[inside])
        value_parts.append(block_values[inside])
    if not index_parts:
        return np.array([], dtype=np.int64), np.array([], dtype="datetime64[D]"), np.array([])
    return (
        np.concatenate(index_parts),
        np.concatenate(day_parts).astype("datetime64[D]"),
        np.concatenate(value_parts),
    )
