"""EMA/SMA recursions and rolling windows on (dates × stocks) float64 panels, suspended (NaN) days skipped.

Conventions (TDX / MyTT):
- `EMA(X, N)`: y = α·x + (1 − α)·y', α = 2 / (N + 1);  `SMA(X, N, M)`: α = M / N (M < N allowed up to M = N).
- A recursion is seeded with the stock's first valid value and has no warm-up of its own (as TDX prints it).
- A NaN input (suspension, or a warm-up NaN from an upstream window) yields NaN and leaves the state untouched:
  the next valid day continues from the last valid one, as if the suspended rows were not there.

Windows count *valid bars*, not calendar rows: `rolling_mean(x, 20)` at a valid day is the mean of that stock's
last 20 valid values, however many suspended rows lie between them; the first N − 1 valid bars are warm-up (NaN),
suspended rows are NaN. This is what TA-Lib gives on the stock's own (gap-free) series, which is why a panel
result equals the per-stock reference on every traded day.

Every kernel can resume: `smooth` takes and returns the last value per stock, `rolling` the last N − 1 valid
values per stock (oldest first, NaN-padded at the front), so chunked runs equal one full pass exactly.
The kernels loop over dates and stocks in numba (one compiled pass, no Python loop per stock). Sums and variances
are running (Welford) updates, as TA-Lib's are, taken afresh from the window each time its ring wraps; max, min
and mean deviation scan the N values.
"""

from __future__ import annotations

import enum

import numba
import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter, check_period
from zquant_factor.domain.indicators.kernels import smooth_kernel
from zquant_factor.domain.indicators.ring import (
    FAST,
    push_row,
    ring_avedev,
    ring_extreme,
    ring_from_tail,
    ring_push,
    ring_tail,
    rows_moments,
)

Panel = NDArray[np.float64]


class Stat(enum.IntEnum):
    """What a window reduces to; the int goes to the kernel."""

    SUM = 0
    MEAN = 1
    STD = 2
    STD_SAMPLE = 3
    MAX = 4
    MIN = 5
    AVEDEV = 6


def as_panel(x: NDArray[np.floating] | NDArray[np.integer], *, name: str = "x") -> Panel:
    """A C-contiguous float64 (dates × stocks) copy-if-needed of `x`; a 1-D series becomes one stock."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise InvalidIndicatorParameter(name, f"must be a (dates × stocks) panel, got {arr.ndim} dimensions")
    return np.ascontiguousarray(arr)


def shaped_like(result: Panel, x: NDArray[np.floating] | NDArray[np.integer]) -> Panel:
    """Give a 1-D input its 1-D shape back."""
    return result.reshape(-1) if np.ndim(x) == 1 else result


def smooth(
    x: NDArray[np.floating], alpha: float, last: NDArray[np.float64] | None = None
) -> tuple[Panel, NDArray[np.float64]]:
    """y = α·x + (1 − α)·y' skipping NaN; returns (panel, last value per stock) to resume from."""
    if not 0.0 < alpha <= 1.0:
        raise InvalidIndicatorParameter("alpha", f"must be in (0, 1], got {alpha}")
    panel = as_panel(x)
    state = np.full(panel.shape[1], np.nan) if last is None else np.array(last, dtype=np.float64, copy=True)
    if state.shape != (panel.shape[1],):
        raise InvalidIndicatorParameter("last", f"must hold one value per stock ({panel.shape[1]})")
    out = np.empty_like(panel)
    smooth_kernel(panel, float(alpha), state, out)
    return out, state


def ema_alpha(n: int, field: str = "n") -> float:
    return 2.0 / (check_period(field, n) + 1.0)


def sma_alpha(n: int, m: int, n_field: str = "n", m_field: str = "m") -> float:
    n = check_period(n_field, n)
    m = check_period(m_field, m, maximum=n)
    return m / n


def ema(x: NDArray[np.floating], n: int) -> Panel:
    """TDX `EMA(X, N)`, α = 2/(N+1), seeded with the first valid value, NaN days skipped."""
    return shaped_like(smooth(x, ema_alpha(n))[0], x)


def sma(x: NDArray[np.floating], n: int, m: int) -> Panel:
    """TDX `SMA(X, N, M)`, α = M/N (1 ≤ M ≤ N), seeded with the first valid value, NaN days skipped."""
    return shaped_like(smooth(x, sma_alpha(n, m))[0], x)


@numba.njit(cache=True, nogil=True, fastmath=FAST, error_model="numpy")
def _rolling_kernel(x: Panel, n: int, stat: int, tail: Panel, out: Panel) -> None:  # pragma: no cover
    rows, cols = x.shape
    buf, pos, count = ring_from_tail(tail, n)
    acc, m2 = np.empty(cols), np.empty(cols)
    squares = stat == 2 or stat == 3
    rows_moments(buf, count, acc, m2, squares)
    inv_n = 1.0 / n
    for i in range(rows):
        row = x[i]
        if stat <= 3 or stat == 6:
            push_row(buf, pos, count, acc, m2, row, i, squares)
        else:
            for j in range(cols):
                if not np.isnan(row[j]):
                    ring_push(buf, pos, count, j, row[j])
        for j in range(cols):
            if np.isnan(row[j]) or count[j] < n:
                out[i, j] = np.nan
            elif stat == 0:
                out[i, j] = acc[j]
            elif stat == 1:
                out[i, j] = acc[j] * inv_n
            elif stat == 2:
                out[i, j] = np.sqrt(max(m2[j], 0.0) * inv_n)
            elif stat == 3:
                out[i, j] = np.sqrt(max(m2[j], 0.0) / (n - 1))
            elif stat == 4:
                out[i, j] = ring_extreme(buf, j, 1.0)
            elif stat == 5:
                out[i, j] = ring_extreme(buf, j, -1.0)
            else:
                out[i, j] = ring_avedev(buf, j, acc[j] * inv_n)
    ring_tail(buf, pos, tail)


def rolling(
    x: NDArray[np.floating], n: int, stat: Stat, tail: Panel | None = None, *, field: str = "n"
) -> tuple[Panel, Panel]:
    """Reduce each stock's last `n` valid values; returns (panel, tail of the last n − 1 valid values)."""
    n = check_period(field, n, minimum=2 if stat is Stat.STD_SAMPLE else 1)
    panel = as_panel(x)
    cols = panel.shape[1]
    state = (
        np.full((n - 1, cols), np.nan)
        if tail is None
        else np.array(tail, dtype=np.float64, order="C", copy=True)
    )
    if state.shape != (n - 1, cols):
        raise InvalidIndicatorParameter("tail", f"must be ({n - 1} × {cols}), got {state.shape}")
    out = np.empty_like(panel)
    _rolling_kernel(panel, n, int(stat), state, out)
    return out, state


def _window(x: NDArray[np.floating], n: int, stat: Stat) -> Panel:
    return shaped_like(rolling(x, n, stat)[0], x)


def rolling_sum(x: NDArray[np.floating], n: int) -> Panel:
    return _window(x, n, Stat.SUM)


def rolling_mean(x: NDArray[np.floating], n: int) -> Panel:
    """TDX `MA(X, N)` over the last N valid bars."""
    return _window(x, n, Stat.MEAN)


def rolling_std(x: NDArray[np.floating], n: int, *, sample: bool = False) -> Panel:
    """Population std (TDX `STD` is sample, BOLL uses population) over the last N valid bars."""
    return _window(x, n, Stat.STD_SAMPLE if sample else Stat.STD)


def rolling_max(x: NDArray[np.floating], n: int) -> Panel:
    """TDX `HHV(X, N)` over the last N valid bars."""
    return _window(x, n, Stat.MAX)


def rolling_min(x: NDArray[np.floating], n: int) -> Panel:
    """TDX `LLV(X, N)` over the last N valid bars."""
    return _window(x, n, Stat.MIN)


def rolling_avedev(x: NDArray[np.floating], n: int) -> Panel:
    """TDX `AVEDEV(X, N)`: mean absolute deviation from the window mean."""
    return _window(x, n, Stat.AVEDEV)


hhv = rolling_max
llv = rolling_min
