"""The window indicators' numba kernels — BOLL, CCI, KDJ — a panel row at a time over slot rings (see `ring`).

Each row, a scalar pass pushes every valid stock's value into its window; then the row's outputs come from
loops over the stocks side by side, which LLVM vectorises: BOLL from its windows' running sum and Welford m2
(TA-Lib keeps running sums too; these are retaken exactly every N rows), CCI from the running mean and a mean
deviation taken over the N slots (as TA-Lib's CCI does), KDJ from the highest high and lowest low over the N
slots. A stock's output is NaN on a row where an input is NaN (suspended) and until its window holds N valid
values. Each kernel starts from the windows' saved tails and ends by writing the tails after its last row into
them; `out` receives the values. Division by zero (a flat window) gives 0, as TDX and TA-Lib do.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.kernels import ratio, step
from zquant_factor.domain.indicators.ring import (
    FAST,
    push_row,
    ring_push,
    ring_tail,
    rows_avedev,
    rows_extreme,
    rows_moments,
    slot_ring_from_tail,
)

F = NDArray[np.float64]
CCI_SCALE = 0.015


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def boll_kernel(x: F, width: float, ddof: int, tail: F, out: F) -> None:  # pragma: no cover - compiled
    """out[0] = MA(x, N), out[1] = MA + width·STD, out[2] = MA − width·STD over the last N = tail rows + 1 valid x."""
    rows, cols = x.shape
    n = tail.shape[0] + 1
    inv_n = 1.0 / n
    # m2 / (N − ddof) is the variance; a one-value window has none
    scale = 1.0 / (n - ddof) if n > 1 else 0.0
    buf, pos, count = slot_ring_from_tail(tail, n)
    acc, m2 = np.empty(cols), np.empty(cols)
    rows_moments(buf, count, acc, m2, True)
    for i in range(rows):
        row = x[i]
        push_row(buf, pos, count, acc, m2, row, i, True)
        mid, upper, lower = out[0, i], out[1, i], out[2, i]
        for j in range(cols):
            full = (count[j] == n) & ~np.isnan(row[j])
            centre = acc[j] * inv_n if full else np.nan
            half = width * np.sqrt(max(m2[j], 0.0) * scale)
            mid[j] = centre
            upper[j] = centre + half
            lower[j] = centre - half
    ring_tail(buf, pos, tail)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def cci_kernel(high: F, low: F, close: F, tail: F, out: F) -> None:  # pragma: no cover - compiled
    """out = (TP − MA(TP, N)) / (0.015 × AVEDEV(TP, N)), TP = (H + L + C)/3, N = tail rows + 1 (TA-Lib's CCI);
    `tail` holds TP values."""
    rows, cols = close.shape
    n = tail.shape[0] + 1
    inv_n = 1.0 / n
    buf, pos, count = slot_ring_from_tail(tail, n)
    acc, m2 = np.empty(cols), np.empty(cols)
    rows_moments(buf, count, acc, m2, False)
    tp, mean, deviation = np.empty(cols), np.empty(cols), np.empty(cols)
    for i in range(rows):
        h, lo, c = high[i], low[i], close[i]
        for j in range(cols):
            tp[j] = (h[j] + lo[j] + c[j]) / 3.0
        push_row(buf, pos, count, acc, m2, tp, i, False)
        for j in range(cols):
            mean[j] = acc[j] * inv_n
        rows_avedev(buf, mean, deviation)
        cci = out[i]
        for j in range(cols):
            full = (count[j] == n) & ~np.isnan(tp[j])
            cci[j] = ratio(tp[j] - mean[j], CCI_SCALE * deviation[j]) if full else np.nan
    ring_tail(buf, pos, tail)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def kdj_kernel(
    high: F, low: F, close: F, a_k: float, a_d: float, high_tail: F, low_tail: F, k: F, d: F, out: F
) -> None:  # pragma: no cover - compiled
    """RSV over the last N = tail rows + 1 valid bars, out[0] = K = SMA(RSV), out[1] = D = SMA(K), out[2] = 3K − 2D;
    K and D resume from `k`, `d` and are seeded by the first full-window RSV."""
    rows, cols = close.shape
    n = high_tail.shape[0] + 1
    highs, high_pos, high_count = slot_ring_from_tail(high_tail, n)
    lows, low_pos, low_count = slot_ring_from_tail(low_tail, n)
    hh, ll = np.empty(cols), np.empty(cols)
    traded = np.empty(cols, dtype=np.bool_)
    for i in range(rows):
        h, lo, c = high[i], low[i], close[i]
        for j in range(cols):
            traded[j] = not (np.isnan(h[j]) | np.isnan(lo[j]) | np.isnan(c[j]))
            if traded[j]:
                ring_push(highs, high_pos, high_count, j, h[j])
                ring_push(lows, low_pos, low_count, j, lo[j])
        rows_extreme(highs, 1.0, hh)
        rows_extreme(lows, -1.0, ll)
        ks, ds, js = out[0, i], out[1, i], out[2, i]
        for j in range(cols):
            full = traded[j] & (high_count[j] == n) & (low_count[j] == n)
            k_next = step(k[j], ratio(c[j] - ll[j], hh[j] - ll[j]) * 100.0, a_k)
            d_next = step(d[j], k_next, a_d)
            k[j] = k_next if full else k[j]
            d[j] = d_next if full else d[j]
            ks[j] = k_next if full else np.nan
            ds[j] = d_next if full else np.nan
            js[j] = 3.0 * k_next - 2.0 * d_next if full else np.nan
    ring_tail(highs, high_pos, high_tail)
    ring_tail(lows, low_pos, low_tail)
