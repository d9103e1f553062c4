"""Range and volume indicators (TDX/MyTT): ATR (price-scaled), OBV, turnover-rate MA."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.errors import check_period
from zquant_factor.domain.indicators.kernels import obv_kernel, true_range_kernel
from zquant_factor.domain.indicators.oscillators import Prices, as_bars
from zquant_factor.domain.indicators.recursions import Stat, as_panel, rolling, rolling_mean
from zquant_factor.domain.indicators.state import Computed, State, computed, entry, vector


def atr(high: Prices, low: Prices, close: Prices, *, n: int = 14, state: State | None = None) -> Computed:
    """`ATR(N)` = MA(TR, N), TR = max(H − L, |H − C'|, |L − C'|) with C' the previous valid close (TDX/MyTT;
    TA-Lib's ATR is Wilder-smoothed instead)."""
    n = check_period("n", n)
    h, lo, c = as_bars(high=high, low=low, close=close)
    prev = vector(state, "prev_close", c.shape[1])
    tr = np.empty_like(c)
    true_range_kernel(h, lo, c, prev, tr)
    out, tail = rolling(tr, n, Stat.MEAN, None if state is None else entry(state, "tr_tail"))
    return computed({"atr": out}, {"prev_close": prev, "tr_tail": tail}, like=close)


def obv(close: NDArray[np.floating], volume: NDArray[np.floating], *, state: State | None = None) -> Computed:
    """`OBV`: running Σ of +V on up days, −V on down days, 0 on a stock's first valid bar (in V's unit)."""
    c, v = as_bars(close=close, volume=volume)
    cols = c.shape[1]
    prev, total = vector(state, "prev_close", cols), vector(state, "total", cols)
    out = np.empty_like(c)
    obv_kernel(c, v, prev, total, out)
    return computed({"obv": out}, {"prev_close": prev, "total": total}, like=close)


def turnover_ma(turnover_rate: NDArray[np.floating], *, n: int = 5) -> Computed:
    """MA of the turnover rate (%) over the last N valid days."""
    panel = as_panel(turnover_rate, name="turnover_rate")
    return computed({"turnover_ma": rolling_mean(panel, n)}, {}, like=turnover_rate)
