"""The headline numbers of a result, as plain floats: stored on the task, sent in events, compared."""

from __future__ import annotations

from zquant_backtest.domain.simulation import BacktestResult


def headline_metrics(result: BacktestResult) -> dict[str, float]:
    p = result.performance
    return {
        "total_return": p.total_return,
        "annual_return": p.annual_return,
        "annual_volatility": p.annual_volatility,
        "sharpe": p.sharpe,
        "sortino": p.sortino,
        "calmar": p.calmar,
        "max_drawdown": p.max_drawdown.depth,
        "alpha": p.alpha,
        "beta": p.beta,
        "information_ratio": p.information_ratio,
        "tracking_error": p.tracking_error,
        "turnover": p.turnover,
        "total_costs": p.total_costs,
        "closed_trades": float(p.trades.closed),
        "win_rate": p.trades.win_rate,
        "profit_loss_ratio": p.trades.profit_loss_ratio,
    }
