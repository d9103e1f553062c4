"""Scale-free oscillators (TDX/MyTT): KDJ, RSI, CCI — the same on hfq, qfq or raw prices over one segment."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter, check_period
from zquant_factor.domain.indicators.kernels import rsi_kernel
from zquant_factor.domain.indicators.recursions import Panel, as_panel, sma_alpha
from zquant_factor.domain.indicators.state import Computed, State, computed, tail, vector
from zquant_factor.domain.indicators.window_kernels import cci_kernel, kdj_kernel

Prices = NDArray[np.floating]


def as_bars(**fields: NDArray[np.floating]) -> list[Panel]:
    """The named input panels, all of one (dates × stocks) shape."""
    panels = [as_panel(arr, name=name) for name, arr in fields.items()]
    shape = panels[0].shape
    for name, panel in zip(fields, panels, strict=True):
        if panel.shape != shape:
            raise InvalidIndicatorParameter(
                name, f"must have the shape {shape} of the other inputs, got {panel.shape}"
            )
    return panels


def kdj(
    high: NDArray[np.floating],
    low: NDArray[np.floating],
    close: NDArray[np.floating],
    *,
    n: int = 9,
    m1: int = 3,
    m2: int = 3,
    state: State | None = None,
) -> Computed:
    """`KDJ(9, 3, 3)`: RSV = (C − LLV(L, N)) / (HHV(H, N) − LLV(L, N)) × 100 (0 on a flat window),
    K = SMA(RSV, M1, 1), D = SMA(K, M2, 1), J = 3K − 2D. K and D are seeded by the first full-window RSV."""
    n = check_period("n", n)
    a_k, a_d = sma_alpha(m1, 1, "m1"), sma_alpha(m2, 1, "m2")
    h, lo, c = as_bars(high=high, low=low, close=close)
    cols = c.shape[1]
    highs, lows = tail(state, "high_tail", n, cols), tail(state, "low_tail", n, cols)
    k, d = vector(state, "k", cols), vector(state, "d", cols)
    out = np.empty((3, *c.shape))
    kdj_kernel(h, lo, c, a_k, a_d, highs, lows, k, d, out)
    return computed(
        {"k": out[0], "d": out[1], "j": out[2]},
        {"high_tail": highs, "low_tail": lows, "k": k, "d": d},
        like=close,
    )


def rsi(close: NDArray[np.floating], *, n: int = 6, state: State | None = None) -> Computed:
    """`RSI(N)` = SMA(max(ΔC, 0), N, 1) / SMA(|ΔC|, N, 1) × 100, ΔC against the previous valid close."""
    alpha = sma_alpha(n, 1)
    c = as_panel(close, name="close")
    cols = c.shape[1]
    prev, up, move = (vector(state, name, cols) for name in ("prev_close", "up", "move"))
    out = np.empty_like(c)
    rsi_kernel(c, alpha, prev, up, move, out)
    return computed({"rsi": out}, {"prev_close": prev, "up": up, "move": move}, like=close)


def cci(high: Prices, low: Prices, close: Prices, *, n: int = 14, state: State | None = None) -> Computed:
    """`CCI(14)`: TP = (H + L + C)/3, CCI = (TP − MA(TP, N)) / (0.015 × AVEDEV(TP, N)), 0 on a flat window."""
    n = check_period("n", n)
    h, lo, c = as_bars(high=high, low=low, close=close)
    tps = tail(state, "tp_tail", n, c.shape[1])
    out = np.empty_like(c)
    cci_kernel(h, lo, c, tps, out)
    return computed({"cci": out}, {"tp_tail": tps}, like=close)
