"""The metrics summary and the run's identity as (label, text) pairs, formatted once for the page."""

from __future__ import annotations

import json
import math

import numpy as np

from zquant_backtest.application.report_ports import ReportMeta
from zquant_backtest.domain.performance import Performance
from zquant_backtest.domain.simulation import BacktestResult

Rows = list[tuple[str, str]]
MAX_LISTED_CODES = 50


def percent(value: float) -> str:
    return f"{value * 100:.2f}%" if math.isfinite(value) else "n/a"


def number(value: float, digits: int = 2) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f}" if math.isfinite(value) else ("∞" if value > 0 else "−∞")


def _day(value: np.datetime64 | None) -> str:
    return "—" if value is None else str(value.astype("datetime64[D]"))


def metric_rows(performance: Performance, final_nav: float) -> Rows:
    drawdown = performance.max_drawdown
    trades = performance.trades
    return [
        ("Final NAV", number(final_nav)),
        ("Total return", percent(performance.total_return)),
        ("Annual return (CAGR)", percent(performance.annual_return)),
        ("Annual volatility", percent(performance.annual_volatility)),
        ("Sharpe", number(performance.sharpe, 3)),
        ("Sortino", number(performance.sortino, 3)),
        ("Calmar", number(performance.calmar, 3)),
        ("Max drawdown", percent(drawdown.depth)),
        ("Drawdown peak → trough → recovery",
         f"{_day(drawdown.peak)} → {_day(drawdown.trough)} → {_day(drawdown.recovery)}"),
        ("Alpha (annual)", percent(performance.alpha)),
        ("Beta", number(performance.beta, 3)),
        ("Information ratio", number(performance.information_ratio, 3)),
        ("Tracking error", percent(performance.tracking_error)),
        ("Turnover (annual, two-sided)", number(performance.turnover, 2)),
        ("Total costs (CNY)", number(performance.total_costs)),
        ("Closed round trips", f"{trades.closed:,}"),
        ("Win rate", percent(trades.win_rate)),
        ("Profit / loss ratio", number(trades.profit_loss_ratio, 3)),
    ]  # fmt: skip


def _universe(meta: ReportMeta) -> str:
    config = meta.config
    if config.index_code:
        return f"members of {config.index_code}"
    listed = ", ".join(config.codes[:MAX_LISTED_CODES])
    more = len(config.codes) - MAX_LISTED_CODES
    return f"{len(config.codes)} codes: {listed}" + (f" … and {more} more" if more > 0 else "")


def meta_rows(meta: ReportMeta, result: BacktestResult) -> Rows:
    config, costs = meta.config, meta.config.costs
    cap = "none" if costs.volume_cap is None else percent(costs.volume_cap)
    return [
        ("Task", meta.task_id),
        ("Strategy", meta.strategy_name),
        ("Engine", config.engine.value),
        ("Period", f"{config.start.isoformat()} … {config.end.isoformat()} ({len(result.dates):,} trading days)"),
        ("Universe", _universe(meta)),
        ("Benchmark", meta.benchmark_name or config.benchmark or "none"),
        ("Initial cash (CNY)", number(config.initial_cash)),
        ("Fill timing", f"next bar's {config.timing.value}"),
        ("Costs", f"commission {costs.commission_rate * 1e4:.2f} bp (min {costs.min_commission:.2f} CNY), "
                  f"slippage {costs.slippage_bps:.1f} bp, volume cap {cap}"),
        ("Params", json.dumps(dict(config.params), sort_keys=True, ensure_ascii=False)),
        ("Code hash", meta.code_hash),
        ("Data version", meta.data_version),
        ("Rules version", result.rules_version),
        ("Fingerprint", result.fingerprint),
        ("Created", meta.created_at or "—"),
    ]  # fmt: skip
