"""The time-series functions that are compositions rather than kernels of their own.

Every other one maps straight onto a kernel (see `functions`): windows and the EMA onto the indicator engine's
(`indicators.recursions`), so `ma(close, 20)` in an expression is the same number as the MA indicator; lags,
rolling ranks and correlations onto `windows`, built on the engine's ring buffers.
"""

from __future__ import annotations

from zquant_factor.domain.expressions import windows
from zquant_factor.domain.expressions.elementwise import arithmetic
from zquant_factor.domain.expressions.panel import Panel
from zquant_factor.domain.indicators import recursions


def delta(x: Panel, n: int) -> Panel:
    """x − ref(x, n)."""
    return arithmetic("-", x, windows.lag(x, n))


def sample_std(x: Panel, n: int) -> Panel:
    """Standard deviation with ddof = 1 (TDX STD, pandas' default) of the last n valid bars."""
    return recursions.rolling_std(x, n, sample=True)
