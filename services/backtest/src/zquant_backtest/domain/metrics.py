"""Performance metrics on daily returns, pure numpy, with empyrical-reloaded's conventions (tested against it):

- annualisation factor 252; ``annual_return`` is the CAGR ``(Π(1+r))^(252/n) − 1``;
- volatility, Sharpe and tracking error use the sample standard deviation (ddof = 1), NaNs ignored;
- ``risk_free`` / ``required_return`` are per-day rates (as empyrical's ``risk_free``), default 0;
- Sortino: ``mean(r − req)·252 / (sqrt(mean(min(r − req, 0)²))·sqrt(252))``;
- max drawdown on the compounded curve anchored at 1 before the first day;
- beta = cov(r, b) / var(b) with population moments on the raw returns (empyrical ignores ``risk_free`` in beta);
  alpha = ``(1 + mean((r − rf) − β(b − rf)))^252 − 1``;
- information ratio = ``mean(r − b) / std(r − b)·sqrt(252)`` (empyrical's ``excess_sharpe`` times sqrt(252)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zquant_backtest.domain.arrays import DateArray, FloatArray

PERIODS_PER_YEAR = 252


def nav_returns(nav: FloatArray, initial: float) -> FloatArray:
    """Daily returns of a NAV curve whose day-0 value is measured against the starting capital."""
    values = np.concatenate(([initial], np.asarray(nav, dtype=np.float64)))
    returns: FloatArray = values[1:] / values[:-1] - 1.0
    return returns


def total_return(returns: FloatArray) -> float:
    return float(np.prod(1.0 + returns[~np.isnan(returns)]) - 1.0)


def annual_return(returns: FloatArray) -> float:
    years = len(returns) / PERIODS_PER_YEAR
    return float((1.0 + total_return(returns)) ** (1.0 / years) - 1.0)


def annual_volatility(returns: FloatArray) -> float:
    return float(np.nanstd(returns, ddof=1) * np.sqrt(PERIODS_PER_YEAR))


def sharpe_ratio(returns: FloatArray, risk_free: float = 0.0) -> float:
    excess = returns - risk_free
    return float(np.nanmean(excess) / np.nanstd(excess, ddof=1) * np.sqrt(PERIODS_PER_YEAR))


def downside_risk(returns: FloatArray, required_return: float = 0.0) -> float:
    below = np.minimum(returns - required_return, 0.0)
    return float(np.sqrt(np.nanmean(below**2)) * np.sqrt(PERIODS_PER_YEAR))


def sortino_ratio(returns: FloatArray, required_return: float = 0.0) -> float:
    """With no day below ``required_return``: +inf (NaN on a flat curve), as empyrical's numpy division gives."""
    mean_annual = np.float64(np.nanmean(returns - required_return) * PERIODS_PER_YEAR)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(mean_annual / np.float64(downside_risk(returns, required_return)))


@dataclass(frozen=True)
class Drawdown:
    """Largest fall (negative fraction) from a peak; ``peak`` is the day the peak was set (None: the starting
    capital), ``recovery`` the first day back at the peak (None: not recovered)."""

    depth: float
    peak: np.datetime64 | None
    trough: np.datetime64 | None
    recovery: np.datetime64 | None


def max_drawdown(returns: FloatArray, dates: DateArray) -> Drawdown:
    curve = np.concatenate(([1.0], np.cumprod(1.0 + np.nan_to_num(returns))))
    running_max = np.fmax.accumulate(curve)
    drawdowns = (curve - running_max) / running_max
    trough = int(np.argmin(drawdowns))
    if drawdowns[trough] >= 0.0:
        return Drawdown(0.0, None, None, None)
    peak = int(np.argmax(curve[: trough + 1]))
    back = np.flatnonzero(curve[trough:] >= curve[peak])
    recovery = dates[trough + int(back[0]) - 1] if back.size else None
    return Drawdown(
        float(drawdowns[trough]), dates[peak - 1] if peak > 0 else None, dates[trough - 1], recovery
    )


def calmar_ratio(returns: FloatArray, dates: DateArray) -> float:
    depth = max_drawdown(returns, dates).depth
    return annual_return(returns) / abs(depth) if depth < 0 else float("nan")


def beta(returns: FloatArray, benchmark: FloatArray) -> float:
    independent = np.where(np.isnan(returns), np.nan, benchmark)
    residual = independent - np.nanmean(independent)
    variance = float(np.nanmean(residual**2))
    return float(np.nanmean(residual * returns)) / variance if variance >= 1e-30 else float("nan")


def alpha(returns: FloatArray, benchmark: FloatArray, risk_free: float = 0.0) -> float:
    series = (returns - risk_free) - beta(returns, benchmark) * (benchmark - risk_free)
    return float((1.0 + np.nanmean(series)) ** PERIODS_PER_YEAR - 1.0)


def tracking_error(returns: FloatArray, benchmark: FloatArray) -> float:
    return annual_volatility(returns - benchmark)


def information_ratio(returns: FloatArray, benchmark: FloatArray) -> float:
    active = returns - benchmark
    return float(np.nanmean(active) / np.nanstd(active, ddof=1) * np.sqrt(PERIODS_PER_YEAR))


def period_returns(returns: FloatArray, dates: DateArray, unit: str) -> tuple[DateArray, FloatArray]:
    """Compounded returns per calendar period (``unit`` "M" or "Y"), labelled by the period's start."""
    periods = dates.astype(f"datetime64[{unit}]")
    labels, starts = np.unique(periods, return_index=True)
    growth = np.multiply.reduceat(1.0 + np.nan_to_num(returns), starts)
    compounded: FloatArray = growth - 1.0
    return labels, compounded


@dataclass(frozen=True)
class TradeStats:
    closed: int
    win_rate: float
    profit_loss_ratio: float


def trade_stats(pnl: FloatArray) -> TradeStats:
    """Over closed round trips (FIFO lots, fees included): share of winners and mean win / |mean loss|."""
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    win_rate = wins.size / pnl.size if pnl.size else float("nan")
    ratio = float(wins.mean() / abs(losses.mean())) if wins.size and losses.size else float("nan")
    return TradeStats(closed=int(pnl.size), win_rate=win_rate, profit_loss_ratio=ratio)


def turnover(traded_value: float, nav: FloatArray) -> float:
    """Annualised two-sided turnover: value traded (buys + sells) per year over the mean NAV."""
    return traded_value / float(np.mean(nav)) * PERIODS_PER_YEAR / len(nav)
