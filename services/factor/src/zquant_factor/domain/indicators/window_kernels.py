"""The window indicators' numba kernels — BOLL, CCI, KDJ — over contiguous runs (see `runs`).

BOLL keeps a running sum and Welford m2 per stock, as TA-Lib keeps running sums; CCI's mean deviation and KDJ's
highest high and lowest low are taken over the N values each row (as TA-Lib's CCI does), vectorised across the
block's stocks. A chunked or resumed run equals one full pass (≤ 1e-9: the running pair restarts from the tail).
Each kernel takes the windows' saved tails (updated in place to the tails after the last row) and fills `out`.
A row where an input is NaN (suspended) gives NaN. Division by zero (a flat window) gives 0, as TDX and TA-Lib.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.kernels import ratio, step
from zquant_factor.domain.indicators.ring import FAST
from zquant_factor.domain.indicators.runs import BLOCK, close_runs, fold_run, gather

F = NDArray[np.float64]
CCI_SCALE = 0.015


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def window_mean(x: F, top: int, n: int, b0: int, b1: int, mean: F) -> None:  # pragma: no cover - compiled
    """mean[j − b0] = the mean of x[top … top + n − 1, j] for the block's stocks: row slices, so LLVM vectorises."""
    mean[:] = x[top, b0:b1]
    for t in range(1, n):
        row = x[top + t, b0:b1]
        for j in range(b1 - b0):
            mean[j] += row[j]
    for j in range(b1 - b0):
        mean[j] = mean[j] / n


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def _moments(w: F) -> tuple[float, float]:  # pragma: no cover - compiled
    """(sum, sum of squared deviations) of one window, two passes: where a running pair starts."""
    n = w.shape[0]
    total = 0.0
    for t in range(n):
        total += w[t]
    mean = total / n
    squares = 0.0
    for t in range(n):
        squares += (w[t] - mean) ** 2
    return total, squares


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def _welford(
    acc: float, m2: float, v: float, old: float, inv_n: float
) -> tuple[float, float]:  # pragma: no cover
    """The window's (sum, m2) after v replaced `old`."""
    total = acc + v - old
    return total, m2 + (v - old) * (v - total * inv_n + old - acc * inv_n)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def boll_kernel(x: F, width: float, ddof: int, gap: F, out: F) -> None:  # pragma: no cover - compiled
    """out[0] = MA(x, N), out[1] = MA + width·STD, out[2] = MA − width·STD over the last N = gap rows + 1 valid x.
    Each stock keeps its window's running sum and Welford m2 (TA-Lib keeps running sums too): the value leaving
    is x[i − N] inside a run, else the gap's; the pair starts afresh, two-pass, when a window first fills."""
    rows, cols = x.shape
    n = gap.shape[0] + 1
    inv_n = 1.0 / n
    # m2 / (N − ddof) is the variance; a one-value window has none (its running m2 would be rounding drift)
    scale = 1.0 / (n - ddof) if n > 1 else 0.0
    run = np.zeros(cols, dtype=np.int64)
    for block in range((cols + BLOCK - 1) // BLOCK):
        b0, b1 = block * BLOCK, min(cols, block * BLOCK + BLOCK)
        w = np.empty(n)
        acc, m2, acc_next, m2_next = (
            np.zeros(b1 - b0),
            np.zeros(b1 - b0),
            np.zeros(b1 - b0),
            np.zeros(b1 - b0),
        )
        for i in range(rows):
            if i >= n:
                new, old = x[i, b0:b1], x[i - n, b0:b1]
                mid, upper, lower = out[0, i, b0:b1], out[1, i, b0:b1], out[2, i, b0:b1]
                for j in range(b1 - b0):
                    acc_next[j], m2_next[j] = _welford(acc[j], m2[j], new[j], old[j], inv_n)
                    band = width * np.sqrt(max(m2_next[j], 0.0) * scale)
                    mid[j] = acc_next[j] * inv_n
                    upper[j] = mid[j] + band
                    lower[j] = mid[j] - band
            for j in range(b0, b1):
                q = j - b0
                v = x[i, j]
                if np.isnan(v):
                    if run[j] > 0:
                        fold_run(x, i, run[j], gap, j)
                    run[j] = 0
                    acc_next[q], m2_next[q] = acc[q], m2[q]
                    out[0, i, j] = out[1, i, j] = out[2, i, j] = np.nan
                    continue
                r = run[j] = run[j] + 1
                if r > n:
                    continue
                leaving = gap[r - 2, j] if r >= 2 else np.nan
                if not np.isnan(leaving):
                    acc_next[q], m2_next[q] = _welford(acc[q], m2[q], v, leaving, inv_n)
                elif r < n and not gather(x, i, r, gap, j, w):
                    out[0, i, j] = out[1, i, j] = out[2, i, j] = np.nan
                    continue
                else:
                    acc_next[q], m2_next[q] = _moments(w if r < n else x[i - n + 1 : i + 1, j].copy())
                centre, half = acc_next[q] * inv_n, width * np.sqrt(max(m2_next[q], 0.0) * scale)
                out[0, i, j], out[1, i, j], out[2, i, j] = centre, centre + half, centre - half
            acc, acc_next, m2, m2_next = acc_next, acc, m2_next, m2
        close_runs(x, run, gap, b0, b1)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def _cci(w: F) -> float:  # pragma: no cover - compiled
    """(last − mean) / (0.015 × mean absolute deviation) of one window."""
    n = w.shape[0]
    total = 0.0
    for t in range(n):
        total += w[t]
    mean = total / n
    deviation = 0.0
    for t in range(n):
        deviation += abs(w[t] - mean)
    return ratio(w[n - 1] - mean, CCI_SCALE * (deviation / n))


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def cci_kernel(tp: F, gap: F, out: F) -> None:  # pragma: no cover - compiled
    """out = (TP − MA(TP, N)) / (0.015 × AVEDEV(TP, N)), N = gap rows + 1 (TA-Lib's CCI). The mean is a running
    sum while the window lies in the stock's current run (started afresh when the run reaches N); the mean
    deviation is always summed over the N values, as TA-Lib's is."""
    rows, cols = tp.shape
    n = gap.shape[0] + 1
    run = np.zeros(cols, dtype=np.int64)
    for block in range((cols + BLOCK - 1) // BLOCK):
        b0, b1 = block * BLOCK, min(cols, block * BLOCK + BLOCK)
        w, acc, mean, deviation = np.empty(n), np.zeros(b1 - b0), np.empty(b1 - b0), np.empty(b1 - b0)
        for i in range(rows):
            if i >= n:
                new, old = tp[i, b0:b1], tp[i - n, b0:b1]
                for j in range(b1 - b0):
                    acc[j] += new[j] - old[j]
                    mean[j] = acc[j] / n
                    deviation[j] = 0.0
                for t in range(n):
                    row = tp[i - n + 1 + t, b0:b1]
                    for j in range(b1 - b0):
                        deviation[j] += abs(row[j] - mean[j])
                cci = out[i, b0:b1]
                for j in range(b1 - b0):
                    cci[j] = ratio(new[j] - mean[j], CCI_SCALE * (deviation[j] / n))
            for j in range(b0, b1):
                if np.isnan(tp[i, j]):
                    if run[j] > 0:
                        fold_run(tp, i, run[j], gap, j)
                    run[j] = 0
                    out[i, j] = np.nan
                    continue
                run[j] += 1
                if run[j] == n:
                    w[:] = tp[i - n + 1 : i + 1, j]
                    acc[j - b0] = _moments(w)[0]
                    out[i, j] = _cci(w)
                elif run[j] < n:
                    out[i, j] = _cci(w) if gather(tp, i, run[j], gap, j, w) else np.nan
        close_runs(tp, run, gap, b0, b1)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def _rsv(h: F, lo: F, c: float) -> float:  # pragma: no cover - compiled
    """(C − LLV) / (HHV − LLV) × 100 of one window of highs and lows."""
    hh, ll = h[0], lo[0]
    for t in range(1, h.shape[0]):
        hh = max(hh, h[t])
        ll = min(ll, lo[t])
    return ratio(c - ll, hh - ll) * 100.0


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def kdj_kernel(
    high: F, low: F, close: F, a_k: float, a_d: float, high_gap: F, low_gap: F, k: F, d: F, out: F
) -> None:  # pragma: no cover - compiled
    """RSV over the last N = gap rows + 1 valid bars, out[0] = K = SMA(RSV), out[1] = D = SMA(K), out[2] = 3K − 2D;
    K and D resume from `k`, `d` and are seeded by the first full-window RSV."""
    rows, cols = close.shape
    n = high_gap.shape[0] + 1
    run = np.zeros(cols, dtype=np.int64)
    for block in range((cols + BLOCK - 1) // BLOCK):
        b0, b1 = block * BLOCK, min(cols, block * BLOCK + BLOCK)
        wh, wl = np.empty(n), np.empty(n)
        hh, rsv = np.empty(b1 - b0), np.empty(b1 - b0)
        for i in range(rows):
            if i >= n - 1:
                top = i - n + 1
                hh[:] = high[top, b0:b1]
                rsv[:] = low[top, b0:b1]
                for t in range(1, n):
                    highs, lows = high[top + t, b0:b1], low[top + t, b0:b1]
                    for j in range(b1 - b0):
                        hh[j] = max(hh[j], highs[j])
                        rsv[j] = min(rsv[j], lows[j])
                closes = close[i, b0:b1]
                for j in range(b1 - b0):
                    rsv[j] = ratio(closes[j] - rsv[j], hh[j] - rsv[j]) * 100.0
            for j in range(b0, b1):
                if np.isnan(high[i, j]) or np.isnan(low[i, j]) or np.isnan(close[i, j]):
                    if run[j] > 0:
                        fold_run(high, i, run[j], high_gap, j)
                        fold_run(low, i, run[j], low_gap, j)
                    run[j] = 0
                    rsv[j - b0] = np.nan
                    continue
                run[j] += 1
                if run[j] < n:
                    full = gather(high, i, run[j], high_gap, j, wh)
                    gather(low, i, run[j], low_gap, j, wl)
                    rsv[j - b0] = _rsv(wh, wl, close[i, j]) if full else np.nan
            ks, ds, js = out[0, i, b0:b1], out[1, i, b0:b1], out[2, i, b0:b1]
            kb, db = k[b0:b1], d[b0:b1]
            for j in range(b1 - b0):
                r = rsv[j]
                if np.isnan(r):
                    ks[j] = ds[j] = js[j] = np.nan
                    continue
                kb[j] = step(kb[j], r, a_k)
                db[j] = step(db[j], kb[j], a_d)
                ks[j] = kb[j]
                ds[j] = db[j]
                js[j] = 3.0 * kb[j] - 2.0 * db[j]
        close_runs(high, run, high_gap, b0, b1)
        close_runs(low, run, low_gap, b0, b1)
