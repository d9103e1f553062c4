"""Numba primitives for windows of the last N *valid* values per stock, kept as per-stock ring buffers.

A ring is `buf[stock, N]` (one contiguous row per stock), `pos[stock]` (the slot the next value overwrites, i.e.
the oldest) and `count[stock]` (valid values held, ≤ N). Callers keep running sums next to it (`moments_push`:
Welford add/replace updates, so a variance needs no second pass). The resumable form is the *tail*: the last
N − 1 valid values per stock as an (N − 1, stocks) array, oldest first, NaN-padded in front — all a window needs
to carry over a chunk boundary; running sums are rebuilt from it.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

# Reassociation lets LLVM vectorise the window reductions; NaN and inf semantics stay strict (no "nnan").
FAST = {"reassoc", "contract", "nsz"}
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def ring_from_tail(tail: Floats, n: int) -> tuple[Floats, Ints, Ints]:  # pragma: no cover - compiled
    cols = tail.shape[1]
    buf = np.full((cols, n), np.nan)
    pos = np.full(cols, n - 1, dtype=np.int64)
    count = np.zeros(cols, dtype=np.int64)
    for j in range(cols):
        for k in range(n - 1):
            buf[j, k] = tail[k, j]
            if not np.isnan(tail[k, j]):
                count[j] += 1
    return buf, pos, count


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def ring_push(buf: Floats, pos: Ints, count: Ints, j: int, v: float) -> float:  # pragma: no cover - compiled
    """Add stock j's next valid value; returns the value it evicted, NaN while the window is filling."""
    n = buf.shape[1]
    p = pos[j]
    old = buf[j, p]
    buf[j, p] = v
    pos[j] = p + 1 if p + 1 < n else 0
    if count[j] < n:
        count[j] += 1
        return np.nan
    return float(old)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def moments_from_ring(buf: Floats, count: Ints) -> tuple[Floats, Floats]:  # pragma: no cover - compiled
    """Sum and sum of squared deviations of the values each ring holds (two passes, exact)."""
    cols, n = buf.shape
    acc = np.zeros(cols)
    m2 = np.zeros(cols)
    for j in range(cols):
        for k in range(n):
            if not np.isnan(buf[j, k]):
                acc[j] += buf[j, k]
        mean = acc[j] / count[j] if count[j] > 0 else 0.0
        for k in range(n):
            if not np.isnan(buf[j, k]):
                m2[j] += (buf[j, k] - mean) ** 2
    return acc, m2


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def moments_push(
    acc: Floats, m2: Floats, j: int, v: float, old: float, c: int, inv_n: float
) -> None:  # pragma: no cover
    """Update stock j's sum and Welford m2 after `ring_push` added v (evicting `old`, NaN if none; c = count now)."""
    if np.isnan(old):
        old_mean = acc[j] / (c - 1) if c > 1 else v
        acc[j] += v
        m2[j] += (v - old_mean) * (v - acc[j] / c)
    else:
        old_mean = acc[j] * inv_n
        acc[j] += v - old
        m2[j] += (v - old) * (v - acc[j] * inv_n + old - old_mean)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def ring_extreme(buf: Floats, j: int, sign: float) -> float:  # pragma: no cover - compiled
    """Max of stock j's window for sign = 1, min for sign = −1 (multiplying by ±1 is exact)."""
    best = sign * buf[j, 0]
    for k in range(1, buf.shape[1]):
        best = max(best, sign * buf[j, k])
    return float(sign * best)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def ring_avedev(buf: Floats, j: int, mean: float) -> float:  # pragma: no cover - compiled
    n = buf.shape[1]
    total = 0.0
    for k in range(n):
        total += abs(buf[j, k] - mean)
    return float(total / n)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def ring_tail(buf: Floats, pos: Ints, tail: Floats) -> None:  # pragma: no cover - compiled
    """Write the last N − 1 valid values per stock into `tail`, oldest first."""
    n = buf.shape[1]
    for j in range(buf.shape[0]):
        for k in range(n - 1):
            q = pos[j] + 1 + k
            tail[k, j] = buf[j, q - n if q >= n else q]
