"""Fused numba kernels for the indicator set: one pass over (dates × stocks) per indicator, state per stock.

Each kernel mutates its state arrays in place (last recursion values, ring buffers), so the caller resumes a run
by passing them back. A row where any input is NaN (suspended) gives NaN outputs and leaves the state untouched.
Division by zero (a flat window) gives 0, as TDX and TA-Lib do.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.ring import (
    FAST,
    ring_avedev,
    ring_extremes,
    ring_push,
    track_extreme,
    window_push,
)

F = NDArray[np.float64]
I = NDArray[np.int64]  # noqa: E741


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def step(prev: float, v: float, alpha: float) -> float:  # pragma: no cover - compiled
    """One EMA/SMA step, seeded with the first value."""
    return v if np.isnan(prev) else alpha * v + (1.0 - alpha) * prev


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def ratio(num: float, den: float) -> float:  # pragma: no cover - compiled
    return num / den if den != 0.0 else 0.0


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def smooth_kernel(x: F, alpha: float, last: F, out: F) -> None:  # pragma: no cover - compiled
    rows, cols = x.shape
    for i in range(rows):
        for j in range(cols):
            v = x[i, j]
            if np.isnan(v):
                out[i, j] = np.nan
            else:
                last[j] = step(last[j], v, alpha)
                out[i, j] = last[j]


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def macd_kernel(
    close: F, a_fast: float, a_slow: float, a_signal: float, fast: F, slow: F, dea: F, out: F
) -> None:  # pragma: no cover - compiled
    """out[0] = DIF = EMA(C, fast) − EMA(C, slow), out[1] = DEA = EMA(DIF, signal), out[2] = 2 × (DIF − DEA)."""
    rows, cols = close.shape
    for i in range(rows):
        for j in range(cols):
            c = close[i, j]
            if np.isnan(c):
                out[0, i, j] = out[1, i, j] = out[2, i, j] = np.nan
                continue
            fast[j] = step(fast[j], c, a_fast)
            slow[j] = step(slow[j], c, a_slow)
            dif = fast[j] - slow[j]
            dea[j] = step(dea[j], dif, a_signal)
            out[0, i, j] = dif
            out[1, i, j] = dea[j]
            out[2, i, j] = 2.0 * (dif - dea[j])


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def kdj_kernel(
    high: F, low: F, close: F, a_k: float, a_d: float,
    hbuf: F, hpos: I, hcount: I, lbuf: F, lpos: I, lcount: I, k: F, d: F, out: F,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """RSV over the last n valid bars (n = ring width), out[0] = K = SMA(RSV), out[1] = D = SMA(K), out[2] = 3K − 2D."""
    rows, cols = close.shape
    n = hbuf.shape[1]
    hh = ring_extremes(hbuf)[0]
    ll = ring_extremes(lbuf)[1]
    for i in range(rows):
        for j in range(cols):
            h, lo, c = high[i, j], low[i, j], close[i, j]
            if np.isnan(h) or np.isnan(lo) or np.isnan(c):
                out[0, i, j] = out[1, i, j] = out[2, i, j] = np.nan
                continue
            track_extreme(hbuf, hh, j, h, ring_push(hbuf, hpos, hcount, j, h), 1.0)
            track_extreme(lbuf, ll, j, lo, ring_push(lbuf, lpos, lcount, j, lo), -1.0)
            if hcount[j] < n:
                out[0, i, j] = out[1, i, j] = out[2, i, j] = np.nan
                continue
            rsv = ratio(c - ll[j], hh[j] - ll[j]) * 100.0
            k[j] = step(k[j], rsv, a_k)
            d[j] = step(d[j], k[j], a_d)
            out[0, i, j] = k[j]
            out[1, i, j] = d[j]
            out[2, i, j] = 3.0 * k[j] - 2.0 * d[j]


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def rsi_kernel(
    close: F, alpha: float, prev: F, up: F, move: F, out: F
) -> None:  # pragma: no cover - compiled
    """ΔC against the previous *valid* close; RSI = SMA(max(ΔC, 0)) / SMA(|ΔC|) × 100."""
    rows, cols = close.shape
    for i in range(rows):
        for j in range(cols):
            c = close[i, j]
            if np.isnan(c) or np.isnan(prev[j]):
                out[i, j] = np.nan
                if not np.isnan(c):
                    prev[j] = c
                continue
            delta = c - prev[j]
            prev[j] = c
            up[j] = step(up[j], max(delta, 0.0), alpha)
            move[j] = step(move[j], abs(delta), alpha)
            out[i, j] = ratio(up[j], move[j]) * 100.0


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def window_kernel(
    x: F, cci: bool, width: float, ddof: int, buf: F, pos: I, count: I, acc: F, m2: F, out: F
) -> None:  # pragma: no cover - compiled
    """Over the last n valid values of x: BOLL (out[0] = MA, out[1] = MA + width·STD, out[2] = MA − width·STD),
    or with `cci` and x = TP = (H + L + C)/3, out[0] = (TP − MA) / (0.015 × AVEDEV)."""
    rows, cols = x.shape
    n = buf.shape[1]
    inv_n = 1.0 / n
    for i in range(rows):
        for j in range(cols):
            v = x[i, j]
            if np.isnan(v) or not window_push(buf, pos, count, acc, m2, j, v, inv_n):
                for q in range(out.shape[0]):
                    out[q, i, j] = np.nan
                continue
            mean = acc[j] * inv_n
            if cci:
                out[0, i, j] = ratio(v - mean, 0.015 * ring_avedev(buf, j, mean))
                continue
            band = width * np.sqrt(max(m2[j], 0.0) / (n - ddof))
            out[0, i, j] = mean
            out[1, i, j] = mean + band
            out[2, i, j] = mean - band


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def true_range_kernel(high: F, low: F, close: F, prev: F, out: F) -> None:  # pragma: no cover - compiled
    """TR = max(H − L, |H − C'|, |L − C'|) with C' the previous valid close; H − L on a stock's first bar."""
    rows, cols = close.shape
    for i in range(rows):
        for j in range(cols):
            h, lo, c = high[i, j], low[i, j], close[i, j]
            if np.isnan(h) or np.isnan(lo) or np.isnan(c):
                out[i, j] = np.nan
                continue
            p = prev[j]
            out[i, j] = h - lo if np.isnan(p) else max(h - lo, abs(h - p), abs(lo - p))
            prev[j] = c


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def obv_kernel(close: F, volume: F, prev: F, total: F, out: F) -> None:  # pragma: no cover - compiled
    """OBV = Σ sign(C − C')·V over valid bars, starting from 0 on a stock's first bar (TDX `OBV`, in V's unit)."""
    rows, cols = close.shape
    for i in range(rows):
        for j in range(cols):
            c, v = close[i, j], volume[i, j]
            if np.isnan(c) or np.isnan(v):
                out[i, j] = np.nan
                continue
            p = prev[j]
            if np.isnan(p):
                total[j] = 0.0
            elif c > p:
                total[j] += v
            elif c < p:
                total[j] -= v
            prev[j] = c
            out[i, j] = total[j]
