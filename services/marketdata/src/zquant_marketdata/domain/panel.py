"""Panel assembly: bar rows scattered onto a code × date grid, NaN where a stock has no bar.

Pure numpy, no per-bar Python loop: each row's code index and date index are computed in bulk
and the values land with one fancy-indexed assignment per field.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def date_axis(calendar_days: np.ndarray, bar_days: np.ndarray) -> np.ndarray:
    """The panel's date axis: the exchange's open days, plus any day that holds a bar.

    The calendar makes a suspension a NaN column entry instead of a dropped row; adding the bar
    days keeps a bar the calendar lacks (an empty or stale trade_cal) rather than losing it.
    Sorted, unique, datetime64[D].
    """
    calendar_days = np.asarray(calendar_days, dtype="datetime64[D]")
    bar_days = np.asarray(bar_days, dtype="datetime64[D]")
    if bar_days.size:
        first = bar_days.min()
        offsets = (bar_days - first).astype(np.int64)
        present = np.flatnonzero(np.bincount(offsets)) + first
        return np.union1d(calendar_days, present.astype("datetime64[D]"))
    return np.unique(calendar_days)


def scatter(
    code_index: np.ndarray,
    days: np.ndarray,
    axis_days: np.ndarray,
    code_count: int,
    fields: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Arrays [code_count, len(axis_days)] per field, NaN-filled, with each row's value at
    (code_index, position of its day on the axis). Every day must be on the axis."""
    date_index = day_positions(axis_days, days)
    if (date_index < 0).any():
        raise ValueError("a bar day is not on the date axis")
    flat = np.asarray(code_index, dtype=np.int64) * axis_days.size + date_index
    panels = {}
    for name, values in fields.items():
        panel = np.full(code_count * axis_days.size, np.nan)
        panel[flat] = values
        panels[name] = panel.reshape(code_count, axis_days.size)
    return panels


def day_positions(axis_days: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Index of each day on the sorted axis, -1 when it is not on it: a lookup table over the
    axis's span, O(n) where searchsorted is O(n log m)."""
    days = np.asarray(days, dtype="datetime64[D]")
    if axis_days.size == 0:
        return np.full(days.size, -1, dtype=np.int64)
    first = axis_days[0]
    span = int((axis_days[-1] - first).astype(np.int64)) + 1
    table = np.full(span, -1, dtype=np.int64)
    table[(axis_days - first).astype(np.int64)] = np.arange(axis_days.size)
    offsets = (days - first).astype(np.int64)
    inside = (offsets >= 0) & (offsets < span)
    return np.where(inside, table[np.clip(offsets, 0, span - 1)], -1)


def codes_per_chunk(date_count: int, requested: int, *, target_bytes: int = 2 << 20, max_bytes: int = 48 << 20) -> int:
    """Codes per streamed chunk: the request's value if given (capped so one message stays under
    `max_bytes`), else as many as fit `target_bytes` of float64; at least one."""
    row_bytes = max(date_count, 1) * 8
    if requested > 0:
        return max(1, min(requested, max_bytes // row_bytes))
    return max(1, target_bytes // row_bytes)


def forward_fill(panel: np.ndarray) -> np.ndarray:
    """A copy of a 2-D array with each NaN replaced by the last non-NaN value to its left in
    the same row (leading NaNs stay)."""
    columns = np.arange(panel.shape[1])
    last = np.where(np.isnan(panel), -1, columns[None, :])
    np.maximum.accumulate(last, axis=1, out=last)
    filled = np.take_along_axis(panel, np.maximum(last, 0), axis=1)
    filled[last < 0] = np.nan
    return filled
