"""Panel assembly: bar rows scattered onto a code × date grid, NaN where a stock has no bar.

Pure numpy, no per-bar Python loop: each row's code index and date index are computed in bulk
and the values land with one fancy-indexed assignment per field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_FILL_ROWS = 64
"""Rows per step of the in-place passes: temporaries stay a few MB (recycled by malloc) instead of
panel-sized arrays, whose fresh pages cost more than the arithmetic on this kind of machine."""


@dataclass(frozen=True, slots=True)
class CodeRuns:
    """Bar rows of one dataset as runs, each one code's rows (of one date slice): ``codes[i]``
    with ``days[i]`` (int64 days since 1970-01-01) and ``values[i][k]`` for ``columns[k]`` (any
    float dtype, e.g. big-endian views straight onto the database's bytes). A code may have
    several runs; days within a run are unique and in no particular order."""

    columns: list[str]
    codes: list[str]
    days: list[np.ndarray]
    values: list[list[np.ndarray]]

    @property
    def size(self) -> int:
        return sum(int(days.size) for days in self.days)

    def unique_days(self) -> np.ndarray:
        """The days holding a row, sorted, datetime64[D]; no row-sized temporary."""
        runs = [days for days in self.days if days.size]
        if not runs:
            return np.empty(0, dtype="datetime64[D]")
        first = min(int(days.min()) for days in runs)
        last = max(int(days.max()) for days in runs)
        present = np.zeros(last - first + 1, dtype=bool)
        for days in runs:
            present[days - first] = True
        return (np.flatnonzero(present) + first).astype("datetime64[D]")


def runs_from_rows(code_index: np.ndarray, codes: Sequence[str], days: np.ndarray,
                   values: Mapping[str, np.ndarray]) -> CodeRuns:
    """`CodeRuns` of long-format rows (code_index into `codes`, datetime64 days, value columns)."""
    columns = list(values)
    order = np.argsort(code_index, kind="stable")
    index = np.asarray(code_index)[order]
    unix_days = np.asarray(days, dtype="datetime64[D]").astype(np.int64)[order]
    sorted_values = [np.asarray(values[name], dtype=np.float64)[order] for name in columns]
    bounds = np.flatnonzero(np.diff(index)) + 1
    starts = [0, *bounds.tolist()]
    stops = [*bounds.tolist(), index.size]
    return CodeRuns(
        columns=columns,
        codes=[codes[int(index[a])] for a in starts] if index.size else [],
        days=[unix_days[a:b] for a, b in zip(starts, stops, strict=True)] if index.size else [],
        values=[[column[a:b] for column in sorted_values] for a, b in zip(starts, stops, strict=True)]
        if index.size else [],
    )


def scatter_runs(runs: CodeRuns, rows: Mapping[str, int], axis_days: np.ndarray, code_count: int,
                 *, drop_off_axis: bool = False) -> dict[str, np.ndarray]:
    """Arrays [code_count, len(axis_days)] per column, NaN-filled, each run's values written
    straight into its code's row (runs of codes not in `rows` are skipped). A day off the axis
    raises unless `drop_off_axis`, which skips it."""
    width = axis_days.size
    grids = {name: np.full((code_count, width), np.nan) for name in runs.columns}
    targets = [grids[name] for name in runs.columns]
    if width == 0:
        return grids
    first = int(axis_days[0].astype(np.int64))
    span = int(axis_days[-1].astype(np.int64)) - first + 1
    table = np.full(span, -1, dtype=np.int64)
    table[axis_days.astype(np.int64) - first] = np.arange(width)
    for code, days, values in zip(runs.codes, runs.days, runs.values, strict=True):
        row = rows.get(code)
        if row is None or days.size == 0:
            continue
        offsets = days - first
        if offsets.min() < 0 or offsets.max() >= span:
            inside = (offsets >= 0) & (offsets < span)
            positions = np.where(inside, table[np.clip(offsets, 0, span - 1)], -1)
        else:
            positions = table[offsets]
        start = int(positions[0])
        count = positions.size
        if start >= 0 and int(positions[-1]) - start == count - 1 and (count < 3 or (np.diff(positions) == 1).all()):
            for grid, column in zip(targets, values, strict=True):
                grid[row, start : start + count] = column
            continue
        keep = positions >= 0
        if not keep.all():
            if not drop_off_axis:
                raise ValueError("a bar day is not on the date axis")
            positions = positions[keep]
            values = [column[keep] for column in values]
        for grid, column in zip(targets, values, strict=True):
            grid[row, positions] = column
    return grids


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


def forward_fill_inplace(panel: np.ndarray) -> np.ndarray:
    """`forward_fill` in place, a few rows at a time; returns `panel`."""
    if panel.size == 0:
        return panel
    columns = np.arange(panel.shape[1])
    for top in range(0, panel.shape[0], _FILL_ROWS):
        block = panel[top : top + _FILL_ROWS]
        last = np.where(np.isnan(block), 0, columns[None, :])
        np.maximum.accumulate(last, axis=1, out=last)
        # A leading NaN picks column 0, itself NaN then: it stays NaN.
        block[...] = np.take_along_axis(block, last, axis=1)
    return panel


def mask_like(panel: np.ndarray, mask_source: np.ndarray) -> np.ndarray:
    """`panel` with NaN wherever `mask_source` is NaN, in place, a few rows at a time."""
    for top in range(0, panel.shape[0], _FILL_ROWS):
        block = panel[top : top + _FILL_ROWS]
        block[np.isnan(mask_source[top : top + _FILL_ROWS])] = np.nan
    return panel


def forward_fill(panel: np.ndarray) -> np.ndarray:
    """A copy of a 2-D array with each NaN replaced by the last non-NaN value to its left in
    the same row (leading NaNs stay)."""
    columns = np.arange(panel.shape[1])
    last = np.where(np.isnan(panel), -1, columns[None, :])
    np.maximum.accumulate(last, axis=1, out=last)
    filled = np.take_along_axis(panel, np.maximum(last, 0), axis=1)
    filled[last < 0] = np.nan
    return filled
