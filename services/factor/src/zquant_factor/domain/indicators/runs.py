"""Windows over each stock's last N valid bars, found through contiguous runs instead of per-stock ring buffers.

A stock whose last N rows are all valid (the common case) has its window in the panel itself, rows i − N + 1 … i,
so a window kernel computes each row in two passes over a block of stocks: a branch-free pass straight from the
panel, which LLVM vectorises across stocks, then a scalar fix-up of the few stocks whose window reaches back over
a suspension or the chunk's start. Those take the valid values before their current run from `gap`: per stock
the last N − 1 valid values before the run, oldest first, NaN-padded in front — the same (N − 1, stocks) array
as the window's resumable tail, so a kernel starts from the saved tail and ends by folding each open run into it.
Working on blocks of `BLOCK` stocks keeps a window's N rows of the block in cache.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.ring import FAST

BLOCK = 512
"""Stocks per block: N rows × 512 × 8 B of each input stay in the core's cache while a block's rows run."""
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def fold_run(x: Floats, end: int, run: int, gap: Floats, j: int) -> None:  # pragma: no cover - compiled
    """Fold stock j's run of `run` valid rows ending before row `end` into gap[:, j] (its last N − 1 values)."""
    m = gap.shape[0]
    if run >= m:
        for t in range(m):
            gap[t, j] = x[end - m + t, j]
        return
    for t in range(m - run):
        gap[t, j] = gap[t + run, j]
    for t in range(run):
        gap[m - run + t, j] = x[end - run + t, j]


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def gather(
    x: Floats, i: int, run: int, gap: Floats, j: int, w: Floats
) -> bool:  # pragma: no cover - compiled
    """Stock j's window at row i into w (length N, oldest first) when its current run is 1 ≤ `run` < N rows;
    False while the stock has fewer than N valid values (the warm-up)."""
    n = w.shape[0]
    if np.isnan(gap[run - 1, j]):
        return False
    for t in range(n - run):
        w[t] = gap[run - 1 + t, j]
    for t in range(run):
        w[n - run + t] = x[i - run + 1 + t, j]
    return True


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def close_runs(
    x: Floats, run: Ints, gap: Floats, first: int, last: int
) -> None:  # pragma: no cover - compiled
    """After the last row: fold the open runs of stocks first … last − 1 into `gap`, which becomes the tail."""
    rows = x.shape[0]
    for j in range(first, last):
        if run[j] > 0:
            fold_run(x, rows, run[j], gap, j)
