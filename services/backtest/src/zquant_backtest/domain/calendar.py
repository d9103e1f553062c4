"""Rebalance calendars over a panel's trading days: which closes a vectorised strategy decides on."""

from __future__ import annotations

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, DateArray


def period_starts(dates: DateArray, unit: str) -> BoolArray:
    """The first trading day of each calendar period: ``unit`` "W" (weeks from Monday), "M", "Q" or "Y"."""
    if unit == "W":
        periods = (dates.astype("datetime64[D]").astype(np.int64) + 3) // 7  # 1970-01-01 was a Thursday
    elif unit == "Q":
        periods = dates.astype("datetime64[M]").astype(np.int64) // 3
    else:
        periods = dates.astype(f"datetime64[{unit}]").astype(np.int64)
    starts: BoolArray = (
        np.concatenate(([True], periods[1:] != periods[:-1])) if len(dates) else np.zeros(0, bool)
    )
    return starts


def every_n_days(count: int, n: int, offset: int = 0) -> BoolArray:
    flags: BoolArray = (np.arange(count) - offset) % n == 0
    return flags
