"""The chart series of a result, from the equity curve and the engine's period returns: pure numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zquant_backtest.domain.arrays import DateArray, FloatArray
from zquant_backtest.domain.metrics import PERIODS_PER_YEAR, nav_returns

ROLLING_SHARPE_DAYS = 126
"""Half a year of trading days."""


def drawdown(nav: FloatArray, initial: float) -> FloatArray:
    """Fall from the running peak per day (≤ 0), the starting capital counting as the first peak."""
    peak = np.fmax.accumulate(np.concatenate(([initial], nav)))[1:]
    falls: FloatArray = nav / peak - 1.0
    return falls


def rolling_sharpe(nav: FloatArray, initial: float, window: int = ROLLING_SHARPE_DAYS) -> FloatArray:
    """Annualised Sharpe of the last ``window`` daily returns (ddof 1, risk-free 0, as the summary's); NaN before
    the window fills and on a flat window."""
    returns = nav_returns(nav, initial)
    result = np.full(returns.size, np.nan)
    if returns.size < window:
        return result
    windows = np.lib.stride_tricks.sliding_window_view(returns, window)
    mean, std = windows.mean(axis=1), windows.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        result[window - 1 :] = np.where(std > 0, mean / std * np.sqrt(PERIODS_PER_YEAR), np.nan)
    return result


@dataclass(frozen=True)
class MonthlyMatrix:
    years: tuple[int, ...]
    returns: FloatArray
    """years × 12, NaN for months outside the run."""


def monthly_matrix(months: DateArray, returns: FloatArray) -> MonthlyMatrix:
    """The engine's per-month compounded returns (labelled ``datetime64[M]``) laid out as a year × month grid."""
    index = np.asarray(months, dtype="datetime64[M]").astype(np.int64)
    year, month = index // 12 + 1970, index % 12
    years = tuple(range(int(year.min()), int(year.max()) + 1)) if index.size else ()
    grid = np.full((len(years), 12), np.nan)
    if years:
        grid[year - years[0], month] = returns
    return MonthlyMatrix(years=years, returns=grid)


def yearly_returns(years: DateArray, returns: FloatArray) -> tuple[tuple[int, ...], FloatArray]:
    labels = tuple(int(y) + 1970 for y in np.asarray(years, dtype="datetime64[Y]").astype(np.int64))
    return labels, np.asarray(returns, dtype=np.float64)
