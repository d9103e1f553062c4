"""The adjustment factor grid of a panel: which stocks lack a factor, filling them from earlier
factors, and the qfq base per stock. Rows are stocks, columns the panel's date axis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from zquant_marketdata.domain.bar_rows import BarRows, reindex


def rows_lacking_factor(factor: np.ndarray, traded: np.ndarray) -> np.ndarray:
    """Rows (stocks) with a bar on some day that has no factor, ascending."""
    return np.flatnonzero((traded & np.isnan(factor)).any(axis=1))


def latest_factors(names: Sequence[str], found: BarRows) -> np.ndarray:
    """`found`'s adj_factor per name (one row per code at most), NaN for a name without one."""
    aligned = np.full(len(names), np.nan)
    if found.size:
        aligned[reindex(found.codes, names)[found.code_index]] = found.values["adj_factor"]
    return aligned


def fill_leading(factor: np.ndarray, rows: np.ndarray, prior: np.ndarray) -> None:
    """In place: each missing factor of `rows` takes that row's `prior` factor (its last one
    before the panel's range)."""
    sub = factor[rows]
    factor[rows] = np.where(np.isnan(sub), prior[:, None], sub)


def base_on_axis(factor: np.ndarray, axis: np.ndarray, base_day: dt.date, end: dt.date) -> np.ndarray:
    """Each stock's factor on the last axis day ≤ base_day when the base day lies in the range,
    else NaN (to be looked up before it)."""
    base = np.full(factor.shape[0], np.nan)
    position = int(np.searchsorted(axis, np.datetime64(base_day, "D"), side="right")) - 1
    if base_day <= end and position >= 0:
        base = factor[:, position].copy()
    return base


def traded_rows(factor: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per row of `rows`: whether it has any factor at all in the range (a stock without a bar in
    the range has none after filling, and needs no base)."""
    traded: np.ndarray = ~np.isnan(factor[rows]).all(axis=1)
    return traded


def balance(weights: Sequence[int], lane_count: int) -> list[list[int]]:
    """Indices of `weights` shared out to `lane_count` lanes, heaviest first onto the lightest lane,
    so each lane gets about the same total."""
    lanes: list[list[int]] = [[] for _ in range(max(lane_count, 1))]
    loads = [0] * len(lanes)
    for index in sorted(range(len(weights)), key=lambda i: -weights[i]):
        lane = loads.index(min(loads))
        lanes[lane].append(index)
        loads[lane] += weights[index]
    return lanes
