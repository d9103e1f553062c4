"""Time-series functions over each stock's valid bars: a suspended (NaN) day is skipped, not counted, and stays NaN.

Windows and recursions come from the indicator engine's kernels (`indicators.recursions`), so `ma(close, 20)`
in an expression is the same number as the MA indicator. Lags and rolling ranks, which the engine has no kernel
for, run on each stock's valid values packed to the top of its column, then go back in place.
"""

from __future__ import annotations

from collections.abc import Callable

import bottleneck as bn
import numpy as np

from zquant_factor.domain.expressions.elementwise import arithmetic
from zquant_factor.domain.expressions.panel import Panel
from zquant_factor.domain.indicators import recursions

_FLAT = 1e-12
"""Relative variance under which a window counts as constant: its correlation is NaN, not rounding noise."""


def _on_valid_bars(x: Panel, compute: Callable[[Panel], Panel]) -> Panel:
    """`compute` on every column's valid values moved to the top (NaN below), results put back where they came from."""
    valid = ~np.isnan(x)
    order = np.argsort(~valid, axis=0, kind="stable")
    out = np.empty_like(x)
    np.put_along_axis(out, order, compute(np.take_along_axis(x, order, axis=0)), axis=0)
    out[~valid] = np.nan
    return out


def _shifted(packed: Panel, n: int) -> Panel:
    out = np.full_like(packed, np.nan)
    out[n:] = packed[: packed.shape[0] - n]
    return out


def ref(x: Panel, n: int) -> Panel:
    """The stock's value `n` valid bars ago."""
    return _on_valid_bars(x, lambda packed: _shifted(packed, n))


def delta(x: Panel, n: int) -> Panel:
    """x − ref(x, n)."""
    return arithmetic("-", x, ref(x, n))


def ma(x: Panel, n: int) -> Panel:
    return recursions.rolling_mean(x, n)


def ema(x: Panel, n: int) -> Panel:
    """TDX EMA, seeded with the first valid value: no warm-up of its own, but every value depends on all history."""
    return recursions.ema(x, n)


def std(x: Panel, n: int) -> Panel:
    """Sample standard deviation (ddof = 1, TDX STD and pandas' default) of the last n valid bars."""
    return recursions.rolling_std(x, n, sample=True)


def total(x: Panel, n: int) -> Panel:
    return recursions.rolling_sum(x, n)


def highest(x: Panel, n: int) -> Panel:
    return recursions.rolling_max(x, n)


def lowest(x: Panel, n: int) -> Panel:
    return recursions.rolling_min(x, n)


def _percentile_rank(packed: Panel, n: int) -> Panel:
    """bottleneck's move_rank (−1 … 1, ties averaged) as today's average rank over n, in (0, 1] like pandas pct."""
    scaled = np.asarray(bn.move_rank(packed, n, min_count=n, axis=0), dtype=np.float64)
    return ((scaled + 1.0) * (n - 1) / 2.0 + 1.0) / n


def ts_rank(x: Panel, n: int) -> Panel:
    """Today's rank among the stock's last n valid values (itself included), as a fraction in (0, 1]."""
    return _on_valid_bars(x, lambda packed: _percentile_rank(packed, n))


def ts_corr(x: Panel, y: Panel, n: int) -> Panel:
    """Pearson correlation of x and y over the last n bars where both are valid; NaN for a constant window.

    Each side is centred on its column's first paired value before the window means, so prices and volumes
    of any magnitude keep their precision; the correlation itself does not depend on that shift.
    """
    paired = ~(np.isnan(x) | np.isnan(y))
    xs = _centred(np.where(paired, x, np.nan))
    ys = _centred(np.where(paired, y, np.nan))
    mean_x, mean_y = recursions.rolling_mean(xs, n), recursions.rolling_mean(ys, n)
    var_x = recursions.rolling_mean(xs * xs, n) - mean_x * mean_x
    var_y = recursions.rolling_mean(ys * ys, n) - mean_y * mean_y
    cov = recursions.rolling_mean(xs * ys, n) - mean_x * mean_y
    flat = (var_x <= _FLAT * (mean_x * mean_x + var_x)) | (var_y <= _FLAT * (mean_y * mean_y + var_y))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.sqrt(var_x * var_y)
    corr[flat] = np.nan
    return np.clip(corr, -1.0, 1.0)


def _centred(x: Panel) -> Panel:
    valid = ~np.isnan(x)
    first = np.take_along_axis(x, np.argmax(valid, axis=0)[None, :], axis=0)
    return x - np.nan_to_num(first)
