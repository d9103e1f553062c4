"""Fused numba kernels of the recursive indicators: one pass over (dates × stocks) per indicator, state per stock
(the window indicators are in `window_kernels`).

Each kernel mutates its state arrays in place (last recursion values), so the caller resumes a run by passing
them back. The loops run over a row's stocks innermost, so LLVM vectorises them across stocks. A row where any
input is NaN (suspended) gives NaN outputs and leaves the state untouched.
Division by zero (a flat window) gives 0, as TDX and TA-Lib do.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.ring import FAST

F = NDArray[np.float64]


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
    """out[0] = DIF = EMA(C, fast) − EMA(C, slow), out[1] = DEA = EMA(DIF, signal), out[2] = 2 × (DIF − DEA).
    A NaN close makes every step NaN, so the state keeps its last values by a select, not a branch."""
    rows, cols = close.shape
    for i in range(rows):
        c = close[i]
        difs, deas, macds = out[0, i], out[1, i], out[2, i]
        for j in range(cols):
            traded = not np.isnan(c[j])
            f = step(fast[j], c[j], a_fast)
            s = step(slow[j], c[j], a_slow)
            e = step(dea[j], f - s, a_signal)
            fast[j] = f if traded else fast[j]
            slow[j] = s if traded else slow[j]
            dea[j] = e if traded else dea[j]
            difs[j] = f - s
            deas[j] = e
            macds[j] = 2.0 * (f - s - e)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def rsi_kernel(
    close: F, alpha: float, prev: F, up: F, move: F, out: F
) -> None:  # pragma: no cover - compiled
    """ΔC against the previous *valid* close; RSI = SMA(max(ΔC, 0)) / SMA(|ΔC|) × 100."""
    rows, cols = close.shape
    for i in range(rows):
        c, rsi = close[i], out[i]
        for j in range(cols):
            delta = c[j] - prev[j]
            moved = not np.isnan(delta)
            u = step(up[j], max(delta, 0.0), alpha)
            m = step(move[j], abs(delta), alpha)
            up[j] = u if moved else up[j]
            move[j] = m if moved else move[j]
            prev[j] = prev[j] if np.isnan(c[j]) else c[j]
            rsi[j] = ratio(u, m) * 100.0 if moved else np.nan


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
