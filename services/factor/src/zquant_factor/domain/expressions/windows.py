"""Numba kernels for the time-series functions the indicator engine has no kernel for: lag, rolling rank,
rolling correlation, over each stock's last N *valid* bars.

They keep the engine's per-stock ring buffers (`indicators.ring`), so a suspended day is skipped here exactly as
in MA or EMA: a NaN input gives NaN and leaves the window untouched. A correlation is computed in two passes
over its window (means first, then co-moments), which keeps full precision on prices and volumes alike.
"""

from __future__ import annotations

import numba
import numpy as np

from zquant_factor.domain.expressions.panel import Panel
from zquant_factor.domain.indicators.ring import ring_from_tail, ring_push

_FLAT = 1e-12
"""A window whose spread is below this fraction of its mean counts as constant: its correlation is NaN."""


@numba.njit(cache=True, nogil=True, inline="always")
def _rank_in_ring(buf: Panel, j: int, v: float) -> float:  # pragma: no cover - compiled
    """Average rank of v among stock j's full window (v included), over the window length."""
    n = buf.shape[1]
    below = 0
    equal = 0
    for k in range(n):
        if buf[j, k] < v:
            below += 1
        elif buf[j, k] == v:
            equal += 1
    return float((below + (equal + 1) / 2.0) / n)


@numba.njit(cache=True, nogil=True)
def _ring_kernel(x: Panel, n: int, rank: bool, out: Panel) -> None:  # pragma: no cover - compiled
    """A lag (the value the push evicts, NaN while the ring fills) or, with `rank`, today's rolling rank."""
    buf, pos, count = ring_from_tail(np.full((n - 1, x.shape[1]), np.nan), n)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j]
            if np.isnan(v):
                out[i, j] = np.nan
                continue
            evicted = ring_push(buf, pos, count, j, v)
            if not rank:
                out[i, j] = evicted
            else:
                out[i, j] = _rank_in_ring(buf, j, v) if count[j] == n else np.nan


@numba.njit(cache=True, nogil=True, inline="always")
def _window_corr(a: Panel, b: Panel) -> float:  # pragma: no cover - compiled
    n = a.shape[0]
    mean_a = a.sum() / n
    mean_b = b.sum() / n
    saa = 0.0
    sbb = 0.0
    sab = 0.0
    for k in range(n):
        da = a[k] - mean_a
        db = b[k] - mean_b
        saa += da * da
        sbb += db * db
        sab += da * db
    if saa <= n * (_FLAT * mean_a) ** 2 or sbb <= n * (_FLAT * mean_b) ** 2:
        return np.nan
    return float(min(max(sab / np.sqrt(saa * sbb), -1.0), 1.0))


@numba.njit(cache=True, nogil=True)
def _corr_kernel(x: Panel, y: Panel, n: int, out: Panel) -> None:  # pragma: no cover - compiled
    empty = np.full((n - 1, x.shape[1]), np.nan)
    buf_x, pos_x, count_x = ring_from_tail(empty, n)
    buf_y, pos_y, count_y = ring_from_tail(empty, n)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            a = x[i, j]
            b = y[i, j]
            if np.isnan(a) or np.isnan(b):
                out[i, j] = np.nan
                continue
            ring_push(buf_x, pos_x, count_x, j, a)
            ring_push(buf_y, pos_y, count_y, j, b)
            out[i, j] = _window_corr(buf_x[j], buf_y[j]) if count_x[j] == n else np.nan


def lag(x: Panel, n: int) -> Panel:
    """The stock's value n valid bars before each valid bar."""
    out = np.empty_like(x)
    _ring_kernel(np.ascontiguousarray(x), n, False, out)
    return out


def rolling_rank(x: Panel, n: int) -> Panel:
    """Each valid bar's average rank among the stock's last n valid values (itself included), over n: (0, 1]."""
    out = np.empty_like(x)
    _ring_kernel(np.ascontiguousarray(x), n, True, out)
    return out


def rolling_corr(x: Panel, y: Panel, n: int) -> Panel:
    """Pearson correlation over the stock's last n bars where x and y are both valid; NaN for a flat window."""
    out = np.empty_like(x)
    _corr_kernel(np.ascontiguousarray(x), np.ascontiguousarray(y), n, out)
    return out
