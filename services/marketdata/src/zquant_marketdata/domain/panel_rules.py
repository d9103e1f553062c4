"""Panel grids of the trading-rule fields: is_st, is_suspended and list_days, code × date.

Flags are 1.0 / 0.0 while a stock is listed and NaN outside its listing life (before list_date,
after delist_date), so "not tradable because not listed" is never mistaken for "tradable".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from zquant_marketdata.domain.rule_datasets import is_st_name

RULE_FIELDS = ("up_limit", "down_limit", "is_st", "is_suspended", "list_days")
LIMIT_FIELDS = ("up_limit", "down_limit")
"""Raw prices from stk_limit: only on an unadjusted panel."""

Life = tuple[dt.date | None, dt.date | None]
"""(list_date, delist_date); None: unknown / still listed."""
NameSpan = tuple[str, dt.date, dt.date | None, str]
"""(ts_code, start_date, end_date or None while current, name) of a namechange row."""


def _days(axis: np.ndarray) -> np.ndarray:
    return np.asarray(axis, dtype="datetime64[D]")


def listed_mask(axis: np.ndarray, lives: Sequence[Life]) -> np.ndarray:
    """[codes, days] True where the stock is listed that day (unknown bounds count as listed)."""
    days = _days(axis)
    low = np.array([np.datetime64(life[0], "D") if life[0] else np.datetime64("NaT") for life in lives])
    high = np.array([np.datetime64(life[1], "D") if life[1] else np.datetime64("NaT") for life in lives])
    low = low.astype("datetime64[D]").reshape(-1, 1)
    high = high.astype("datetime64[D]").reshape(-1, 1)
    after_listing = np.isnat(low) | (days[None, :] >= low)
    before_delisting = np.isnat(high) | (days[None, :] < high)
    result: np.ndarray = after_listing & before_delisting
    return result


def as_flags(marked: np.ndarray, listed: np.ndarray) -> np.ndarray:
    flags = marked.astype(np.float64)
    flags[~listed] = np.nan
    return flags


def st_marks(axis: np.ndarray, universe: Sequence[str], spans: Sequence[NameSpan]) -> np.ndarray:
    """True where an ST / *ST name's period covers the day."""
    days = _days(axis)
    rows = {code: index for index, code in enumerate(universe)}
    marks = np.zeros((len(universe), days.size), dtype=bool)
    for code, start, end, name in spans:
        row = rows.get(code)
        if row is None or not is_st_name(name):
            continue
        inside = days >= np.datetime64(start, "D")
        if end is not None:
            inside &= days <= np.datetime64(end, "D")
        marks[row] |= inside
    return marks


def suspended_marks(
    axis: np.ndarray, universe: Sequence[str], suspended: Sequence[tuple[str, dt.date]], bar_mask: np.ndarray
) -> np.ndarray:
    """True on a suspend_d suspension day, or where an open day has no bar (NaN in `bar_mask`)."""
    days = _days(axis)
    marks: np.ndarray = np.isnan(bar_mask)
    rows = {code: index for index, code in enumerate(universe)}
    positions = {day: index for index, day in enumerate(days.tolist())}
    for code, day in suspended:
        row, column = rows.get(code), positions.get(day)
        if row is not None and column is not None:
            marks[row, column] = True
    return marks


def list_days(axis: np.ndarray, lives: Sequence[Life], open_days: np.ndarray) -> np.ndarray:
    """Open days from list_date through the day, both included (1 on the listing day); NaN before
    listing or with list_date unknown. `open_days` must cover the earliest list_date to the axis end."""
    days = _days(axis)
    calendar = np.union1d(_days(open_days), days)
    through = np.searchsorted(calendar, days, side="right").astype(np.float64)
    result = np.full((len(lives), days.size), np.nan)
    for row, (listed, _delisted) in enumerate(lives):
        if listed is None:
            continue
        first = np.searchsorted(calendar, np.datetime64(listed, "D"), side="left")
        counts = through - first
        counts[days < np.datetime64(listed, "D")] = np.nan
        result[row] = counts
    return result
