"""The metrics of one backtest in one record, with the rules version it ran under."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zquant_backtest.domain import metrics
from zquant_backtest.domain.arrays import DateArray, FloatArray
from zquant_backtest.domain.ledger import Ledger
from zquant_backtest.domain.metrics import Drawdown, TradeStats
from zquant_backtest.domain.rules import RULES_VERSION


@dataclass(frozen=True, eq=False)
class Performance:
    rules_version: str
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: Drawdown
    alpha: float
    beta: float
    information_ratio: float
    tracking_error: float
    turnover: float
    total_costs: float
    trades: TradeStats
    monthly: tuple[DateArray, FloatArray]
    yearly: tuple[DateArray, FloatArray]


@dataclass(frozen=True, eq=False)
class Activity:
    """What the ledger adds up over the run."""

    traded_value: float
    total_costs: float
    round_trip_pnl: FloatArray


def summarise(
    dates: DateArray,
    nav: FloatArray,
    initial: float,
    activity: Activity,
    benchmark: FloatArray | None = None,
    risk_free: float = 0.0,
) -> Performance:
    """``benchmark`` holds the benchmark's daily returns on the same ``dates`` (NaN metrics without one);
    ``risk_free`` is a per-day rate."""
    returns = metrics.nav_returns(nav, initial)
    missing = float("nan")
    return Performance(
        rules_version=RULES_VERSION,
        total_return=metrics.total_return(returns),
        annual_return=metrics.annual_return(returns),
        annual_volatility=metrics.annual_volatility(returns),
        sharpe=metrics.sharpe_ratio(returns, risk_free),
        sortino=metrics.sortino_ratio(returns, risk_free),
        calmar=metrics.calmar_ratio(returns, dates),
        max_drawdown=metrics.max_drawdown(returns, dates),
        alpha=metrics.alpha(returns, benchmark, risk_free) if benchmark is not None else missing,
        beta=metrics.beta(returns, benchmark) if benchmark is not None else missing,
        information_ratio=metrics.information_ratio(returns, benchmark) if benchmark is not None else missing,
        tracking_error=metrics.tracking_error(returns, benchmark) if benchmark is not None else missing,
        turnover=metrics.turnover(activity.traded_value, nav),
        total_costs=activity.total_costs,
        trades=metrics.trade_stats(np.asarray(activity.round_trip_pnl, dtype=np.float64)),
        monthly=metrics.period_returns(returns, dates, "M"),
        yearly=metrics.period_returns(returns, dates, "Y"),
    )


def activity_of(ledger: Ledger) -> Activity:
    return Activity(
        traded_value=ledger.traded_value,
        total_costs=ledger.costs_paid,
        round_trip_pnl=np.array([trip.pnl for trip in ledger.lots.round_trips], dtype=np.float64),
    )
