"""Numba primitives for windows of the last N *valid* values per stock, kept as per-stock ring buffers.

A ring is `buf[stock, slot]` (N slots), `pos[stock]` (the slot the next value overwrites, i.e. the oldest) and
`count[stock]` (valid values held, ≤ N). Its memory comes in two orders with the same indexing:
- `ring_from_tail`: one contiguous row per stock, for kernels that scan one stock's window per value;
- `slot_ring_from_tail`: one contiguous row per slot (all stocks side by side), for kernels that reduce every
  stock's window a whole panel row at a time (`rows_extreme`, `rows_avedev`), which LLVM vectorises across
  stocks. A suspension shifts a stock's slots against its neighbours'; sums, extremes and deviations over all N
  slots do not depend on the order.
Callers keep running sums next to a ring (`push_row`, `moments_push`: Welford add/replace updates, so a variance
needs no second pass), retaken exactly from the windows (`rows_moments`) at the start and every N rows so that
rounding cannot drift. The resumable form is the *tail*: the last N − 1 valid values per stock as an
(N − 1, stocks) array, oldest first, NaN-padded in front — all a window needs to carry over a chunk boundary;
running sums are rebuilt from it.
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
def _fill_ring(buf: Floats, tail: Floats) -> tuple[Floats, Ints, Ints]:  # pragma: no cover - compiled
    """The tail in slots 0 … N − 2 of an all-NaN `buf`; the next value goes to slot N − 1."""
    cols, n = buf.shape
    pos = np.full(cols, n - 1, dtype=np.int64)
    count = np.zeros(cols, dtype=np.int64)
    for k in range(n - 1):
        for j in range(cols):
            buf[j, k] = tail[k, j]
            if not np.isnan(tail[k, j]):
                count[j] += 1
    return buf, pos, count


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def ring_from_tail(tail: Floats, n: int) -> tuple[Floats, Ints, Ints]:  # pragma: no cover - compiled
    """A ring with one contiguous row per stock."""
    return _fill_ring(np.full((tail.shape[1], n), np.nan), tail)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def slot_ring_from_tail(tail: Floats, n: int) -> tuple[Floats, Ints, Ints]:  # pragma: no cover - compiled
    """A ring with one contiguous row per slot: `buf[:, k]` is slot k of every stock."""
    return _fill_ring(np.full((n, tail.shape[1]), np.nan).T, tail)


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
def rows_moments(
    buf: Floats, count: Ints, acc: Floats, m2: Floats, squares: bool
) -> None:  # pragma: no cover - compiled
    """Every stock's window sum and, with `squares`, sum of squared deviations, exact (two passes over the valid
    slots)."""
    cols, n = buf.shape
    acc[:] = 0.0
    m2[:] = 0.0
    for k in range(n):
        slot = buf[:, k]
        for j in range(cols):
            acc[j] += 0.0 if np.isnan(slot[j]) else slot[j]
    if not squares:
        return
    mean = np.empty(cols)
    for j in range(cols):
        mean[j] = acc[j] / count[j] if count[j] > 0 else 0.0
    for k in range(n):
        slot = buf[:, k]
        for j in range(cols):
            m2[j] += 0.0 if np.isnan(slot[j]) else (slot[j] - mean[j]) ** 2


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def moments_push(
    acc: Floats, m2: Floats, j: int, v: float, old: float, c: int, inv_n: float
) -> None:  # pragma: no cover
    """Update stock j's sum and Welford m2 after `ring_push` added v (evicting `old`, NaN if none; c = count now).
    Rounding drifts over many replaces: callers retake the moments with `rows_moments` every N rows."""
    if np.isnan(old):
        old_mean = acc[j] / (c - 1) if c > 1 else v
        acc[j] += v
        m2[j] += (v - old_mean) * (v - acc[j] / c)
    else:
        old_mean = acc[j] * inv_n
        acc[j] += v - old
        m2[j] += (v - old) * (v - acc[j] * inv_n + old - old_mean)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def push_row(
    buf: Floats, pos: Ints, count: Ints, acc: Floats, m2: Floats, row: Floats, i: int, squares: bool
) -> None:  # pragma: no cover - compiled
    """Push row i's valid values into their windows and update the windows' sums (and m2 with `squares`),
    retaken exactly every N rows."""
    n = buf.shape[1]
    inv_n = 1.0 / n
    for j in range(row.shape[0]):
        v = row[j]
        if np.isnan(v):
            continue
        old = ring_push(buf, pos, count, j, v)
        if squares:
            moments_push(acc, m2, j, v, old, count[j], inv_n)
        else:
            acc[j] += v if np.isnan(old) else v - old
    if i % n == n - 1:
        rows_moments(buf, count, acc, m2, squares)


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


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def rows_extreme(buf: Floats, sign: float, out: Floats) -> None:  # pragma: no cover - compiled
    """out[j] = the max (sign = 1) or min (sign = −1) of every stock's window, four slot rows a pass (the last
    slot repeated to fill the last pass: taking it twice changes no extreme)."""
    n = buf.shape[1]
    out[:] = buf[:, 0]
    for k in range(1, n, 4):
        a, b, c, d = (
            buf[:, k],
            buf[:, min(k + 1, n - 1)],
            buf[:, min(k + 2, n - 1)],
            buf[:, min(k + 3, n - 1)],
        )
        if sign > 0:
            for j in range(out.shape[0]):
                out[j] = max(out[j], max(max(a[j], b[j]), max(c[j], d[j])))
        else:
            for j in range(out.shape[0]):
                out[j] = min(out[j], min(min(a[j], b[j]), min(c[j], d[j])))


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy", inline="always")
def rows_avedev(buf: Floats, mean: Floats, out: Floats) -> None:  # pragma: no cover - compiled
    """out[j] = the mean absolute deviation of every stock's window from mean[j]: the first N mod 4 slot rows one
    at a time, then four a pass."""
    n = buf.shape[1]
    out[:] = 0.0
    for k in range(n % 4):
        a = buf[:, k]
        for j in range(out.shape[0]):
            out[j] += abs(a[j] - mean[j])
    for k in range(n % 4, n, 4):
        a, b, c, d = buf[:, k], buf[:, k + 1], buf[:, k + 2], buf[:, k + 3]
        for j in range(out.shape[0]):
            m = mean[j]
            out[j] += (abs(a[j] - m) + abs(b[j] - m)) + (abs(c[j] - m) + abs(d[j] - m))
    for j in range(out.shape[0]):
        out[j] = out[j] / n


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def ring_tail(buf: Floats, pos: Ints, tail: Floats) -> None:  # pragma: no cover - compiled
    """Write the last N − 1 valid values per stock into `tail`, oldest first."""
    n = buf.shape[1]
    for j in range(buf.shape[0]):
        for k in range(n - 1):
            q = pos[j] + 1 + k
            tail[k, j] = buf[j, q - n if q >= n else q]
