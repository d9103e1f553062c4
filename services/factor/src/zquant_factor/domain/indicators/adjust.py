"""Reading a stored hfq indicator as qfq.

Indicators are computed on hfq prices (raw × adj_factor), so stored values never change when a new ex-rights
event arrives. qfq at base date t is hfq / adj_factor(t), one constant per stock. An indicator that is linear and
positively homogeneous in the price (MA, EMA, MACD, BOLL, ATR) therefore scales by the same constant; a ratio of
prices (KDJ, RSI, CCI) does not change at all.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter
from zquant_factor.domain.indicators.recursions import Panel, as_panel


def qfq_from_hfq(
    values: NDArray[np.floating], base_adj_factor: NDArray[np.floating], *, price_scaled: bool
) -> Panel:
    """A stored hfq indicator panel (dates × stocks) as qfq at the base date whose adj_factor per stock is given."""
    panel = as_panel(values, name="values")
    factor = np.asarray(base_adj_factor, dtype=np.float64).reshape(-1)
    if factor.shape != (panel.shape[1],):
        raise InvalidIndicatorParameter(
            "base_adj_factor", f"must hold one factor per stock ({panel.shape[1]})"
        )
    if not (np.isfinite(factor) & (factor > 0)).all():
        raise InvalidIndicatorParameter("base_adj_factor", "must be finite and positive")
    result = panel / factor if price_scaled else panel.copy()
    return result.reshape(-1) if np.ndim(values) == 1 else result
