"""Price-scaled trend indicators (TDX/MyTT): MA, EMA, MACD, BOLL. Scale with the price (see `adjust`)."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter, check_period
from zquant_factor.domain.indicators.kernels import macd_kernel
from zquant_factor.domain.indicators.recursions import as_panel, ema_alpha, rolling_mean, smooth
from zquant_factor.domain.indicators.state import Computed, State, computed, tail, vector
from zquant_factor.domain.indicators.window_kernels import boll_kernel


def ma(close: NDArray[np.floating], *, n: int = 5) -> Computed:
    """`MA(C, N)`: mean of the last N valid closes; the first N − 1 are warm-up."""
    return computed({"ma": rolling_mean(as_panel(close, name="close"), n)}, {}, like=close)


def ema(close: NDArray[np.floating], *, n: int = 12, state: State | None = None) -> Computed:
    """`EMA(C, N)`, α = 2/(N+1), seeded with the first valid close; resumable."""
    panel = as_panel(close, name="close")
    out, last = smooth(panel, ema_alpha(n), vector(state, "last", panel.shape[1]))
    return computed({"ema": out}, {"last": last}, like=close)


def macd(
    close: NDArray[np.floating],
    *,
    fast: int = 12,
    slow: int = 26,
    signal: int = 9,
    state: State | None = None,
) -> Computed:
    """`MACD(12, 26, 9)`: DIF = EMA(C, fast) − EMA(C, slow), DEA = EMA(DIF, signal), MACD = 2 × (DIF − DEA)."""
    a_fast, a_slow, a_signal = ema_alpha(fast, "fast"), ema_alpha(slow, "slow"), ema_alpha(signal, "signal")
    panel = as_panel(close, name="close")
    cols = panel.shape[1]
    emas = {name: vector(state, name, cols) for name in ("fast", "slow", "dea")}
    out = np.empty((3, *panel.shape))
    macd_kernel(panel, a_fast, a_slow, a_signal, emas["fast"], emas["slow"], emas["dea"], out)
    return computed({"dif": out[0], "dea": out[1], "macd": out[2]}, emas, like=close)


def boll(
    close: NDArray[np.floating],
    *,
    n: int = 20,
    width: float = 2.0,
    sample_std: bool = False,
    state: State | None = None,
) -> Computed:
    """`BOLL(20, 2)`: MID = MA(C, N), UPPER/LOWER = MID ± width × STD(C, N), population std unless `sample_std`."""
    n = check_period("n", n, minimum=2 if sample_std else 1)
    if isinstance(width, bool) or not isinstance(width, numbers.Real) or not 0 < float(width) < 100:
        raise InvalidIndicatorParameter("width", f"must be a number in (0, 100), got {width!r}")
    panel = as_panel(close, name="close")
    closes = tail(state, "close_tail", n, panel.shape[1])
    out = np.empty((3, *panel.shape))
    boll_kernel(panel, float(width), int(sample_std), closes, out)
    return computed({"mid": out[0], "upper": out[1], "lower": out[2]}, {"close_tail": closes}, like=close)
