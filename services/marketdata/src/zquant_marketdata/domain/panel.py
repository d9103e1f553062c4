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
class RunPart:
    """Consecutive runs of bar rows, each one code's rows on distinct days (in any order): run ``i`` is
    ``codes[i]`` with ``lengths[i]`` rows; ``days`` (int64 days since 1970-01-01) and each of
    ``values`` (any float dtype, e.g. big-endian views straight onto the database's bytes) hold
    the runs one after the other. Whole arrays, so a part is placed with a few numpy calls
    however many codes it holds."""

    codes: list[str]
    lengths: np.ndarray
    days: np.ndarray
    values: list[np.ndarray]


@dataclass(frozen=True, slots=True)
class CodeRuns:
    """Bar rows of one dataset as parts of runs, values for ``columns``; a code may have runs in
    several parts (one per year, say), each covering different days."""

    columns: list[str]
    parts: list[RunPart]

    @property
    def size(self) -> int:
        return sum(int(part.days.size) for part in self.parts)

    @property
    def codes(self) -> set[str]:
        return {code for part in self.parts for code in part.codes}

    def unique_days(self) -> np.ndarray:
        """The days holding a row, sorted, datetime64[D]; no row-sized temporary."""
        parts = [part.days for part in self.parts if part.days.size]
        if not parts:
            return np.empty(0, dtype="datetime64[D]")
        first = min(int(days.min()) for days in parts)
        last = max(int(days.max()) for days in parts)
        present = np.zeros(last - first + 1, dtype=bool)
        for days in parts:
            present[days - first] = True
        return (np.flatnonzero(present) + first).astype("datetime64[D]")


def runs_from_rows(code_index: np.ndarray, codes: Sequence[str], days: np.ndarray,
                   values: Mapping[str, np.ndarray]) -> CodeRuns:
    """`CodeRuns` (one part) of long-format rows (code_index into `codes`, datetime64 days, value columns)."""
    columns = list(values)
    unix_days = np.asarray(days, dtype="datetime64[D]").astype(np.int64)
    index = np.asarray(code_index, dtype=np.int64)
    order = np.argsort(index, kind="stable")
    counts = np.bincount(index, minlength=len(codes)) if index.size else np.zeros(len(codes), dtype=np.int64)
    present = np.flatnonzero(counts)
    part = RunPart(
        codes=[codes[i] for i in present.tolist()],
        lengths=counts[present].astype(np.int64),
        days=unix_days[order],
        values=[np.asarray(values[name], dtype=np.float64)[order] for name in columns],
    )
    return CodeRuns(columns=columns, parts=[part] if present.size else [])


def empty_grids(columns: Sequence[str], code_count: int, width: int) -> dict[str, np.ndarray]:
    """NaN-filled [code_count, width] float64 arrays, one per column: a cell no bar lands in stays
    missing (a suspension, or a code not yet listed)."""
    return {name: np.full((code_count, width), np.nan) for name in columns}


class PositionTable:
    """Day → index on a sorted, non-empty date axis through a lookup table over the axis's span:
    O(n) where searchsorted is O(n log m); -1 for a day not on the axis."""

    def __init__(self, axis_days: np.ndarray) -> None:
        unix = np.asarray(axis_days, dtype="datetime64[D]").astype(np.int64)
        self.width = unix.size
        self._first = int(unix[0])
        self._table = np.full(int(unix[-1]) - self._first + 1, -1, dtype=np.int64)
        self._table[unix - self._first] = np.arange(unix.size)

    def of(self, days: np.ndarray) -> np.ndarray:
        offsets = days - self._first
        if offsets.size == 0 or (offsets.min() >= 0 and offsets.max() < self._table.size):
            found: np.ndarray = self._table[offsets]
            return found
        inside = (offsets >= 0) & (offsets < self._table.size)
        return np.where(inside, self._table[np.clip(offsets, 0, self._table.size - 1)], -1)


def place_parts(grids: Sequence[np.ndarray], parts: Sequence[RunPart], rows: Mapping[str, int],
                positions: PositionTable, *, drop_off_axis: bool = False) -> None:
    """Writes each part's values (column k into ``grids[k]``) at (its code's row, its days' places
    on the axis), one fancy-indexed assignment per column and part; runs of codes not in `rows`
    are skipped. A day off the axis raises unless `drop_off_axis`, which skips it. Parts cover
    distinct (code, day) cells, so disjoint groups of parts may be placed from several threads."""
    flat_grids = [grid.reshape(-1) for grid in grids]
    for part in parts:
        run_rows = np.fromiter((rows.get(code, -1) for code in part.codes), dtype=np.int64, count=len(part.codes))
        element_rows = np.repeat(run_rows, part.lengths)
        places = positions.of(part.days)
        keep = element_rows >= 0
        off_axis = keep & (places < 0)
        if off_axis.any():
            if not drop_off_axis:
                raise ValueError("a bar day is not on the date axis")
            keep &= ~off_axis
        flat = element_rows * positions.width + places
        if keep.all():
            for grid, column in zip(flat_grids, part.values, strict=True):
                grid[flat] = column
            continue
        flat = flat[keep]
        for grid, column in zip(flat_grids, part.values, strict=True):
            grid[flat] = column[keep]


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


def codes_per_chunk(date_count: int, requested: int, *, target_bytes: int = 2 << 20, max_bytes: int = 48 << 20) -> int:
    """Codes per streamed chunk: the request's value if given (capped so one message stays under
    `max_bytes`), else as many as fit `target_bytes` of float64; at least one."""
    row_bytes = max(date_count, 1) * 8
    if requested > 0:
        return max(1, min(requested, max_bytes // row_bytes))
    return max(1, target_bytes // row_bytes)


def forward_fill_inplace(panel: np.ndarray) -> np.ndarray:
    """Each NaN replaced by the last non-NaN value to its left in the same row (leading NaNs
    stay), in place, a few rows at a time; returns `panel`."""
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
