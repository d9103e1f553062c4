"""Forward returns from hfq close, alphalens' convention, on a dates × stocks panel.

    forward_return[h][t, s] = close_held[t + h, s] / close[t, s] - 1

where `close_held` is the last traded close at or before each date (a suspended stock cannot
be sold, so at t + h it is marked at its last trade). This is exactly alphalens-reloaded's
`prices.ffill().pct_change(h).shift(-h)`, so results compare value for value. A stock suspended
at t (NaN close) has no observation at t, and the last h dates of the panel have none either.
Horizons count rows of the panel, i.e. trading days of the market calendar.
"""

from __future__ import annotations

import numpy as np

from zquant_factor.domain.analysis.rows import BoolPanel, FloatPanel


def validate_close(close: FloatPanel) -> None:
    """Prices are positive and finite where traded; NaN marks suspension or not listed."""
    traded = ~np.isnan(close)
    if not np.all(np.isfinite(close[traded]) & (close[traded] > 0)):
        raise ValueError("close: traded prices must be finite and positive (NaN marks a suspended day)")


def held_close(close: FloatPanel) -> FloatPanel:
    """Each stock's last traded close at or before every date (NaN before its first trade)."""
    rows = np.arange(close.shape[0])[:, None]
    last_traded_row = np.maximum.accumulate(np.where(np.isnan(close), 0, rows), axis=0)
    return np.take_along_axis(close, last_traded_row, axis=0)


def forward_return(close: FloatPanel, held: FloatPanel, horizon: int) -> FloatPanel:
    """The `horizon`-day forward return at every date; NaN when suspended at t or past the panel's end."""
    result = np.full(close.shape, np.nan)
    if horizon < close.shape[0]:
        result[:-horizon] = held[horizon:] / close[:-horizon] - 1.0
    return result


def has_forward_returns(close: FloatPanel, longest_horizon: int) -> BoolPanel:
    """Where every horizon up to `longest_horizon` has a return: traded at t and t + h inside the panel."""
    available = ~np.isnan(close)
    available[max(close.shape[0] - longest_horizon, 0) :] = False
    return available
