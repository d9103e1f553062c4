"""The report's data preparation on its own: series, tables and costs against the engine's own numbers, the
escaping of everything that reaches the page, and the page's size for a 500-code × 2,500-day run."""

from __future__ import annotations

import json
import time
from datetime import date

import numpy as np
import pytest

from zquant_backtest.adapters.report import HtmlReportRenderer, series
from zquant_backtest.adapters.report.payload import embeddable_json
from zquant_backtest.adapters.report.reasons import REASON_TEXT, reason_text
from zquant_backtest.adapters.report.tables import costs_breakdown, refusals_of, trade_columns
from zquant_backtest.application.report_ports import ReportMeta
from zquant_backtest.application.run_ports import RunConfig
from zquant_backtest.application.vector_engine import VectorEngine, top_n_weights
from zquant_backtest.domain import metrics
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.orders import Reason
from zquant_backtest.domain.simulation import BacktestResult

pytestmark = pytest.mark.unit


def test_drawdown_counts_the_starting_capital_as_the_first_peak() -> None:
    nav = np.array([90.0, 120.0, 60.0, 130.0])
    np.testing.assert_allclose(series.drawdown(nav, 100.0), [-0.1, 0.0, -0.5, 0.0])


def test_rolling_sharpe_is_the_summary_sharpe_of_each_window(bank_run: BacktestResult) -> None:
    nav, window = bank_run.equity.nav, series.ROLLING_SHARPE_DAYS
    rolling = series.rolling_sharpe(nav, 1_000_000.0)
    returns = metrics.nav_returns(nav, 1_000_000.0)
    assert np.isnan(rolling[: window - 1]).all()
    for end in (window, 400, nav.size):
        if np.nanstd(returns[end - window : end]) > 0:
            assert rolling[end - 1] == pytest.approx(metrics.sharpe_ratio(returns[end - window : end]), rel=1e-9)
    assert np.isnan(series.rolling_sharpe(nav[:10], 1_000_000.0)).all()


def test_monthly_and_yearly_grids_hold_the_engines_period_returns(bank_run: BacktestResult) -> None:
    months, monthly = bank_run.performance.monthly
    grid = series.monthly_matrix(months, monthly)
    assert grid.years == (2019, 2020, 2021, 2022, 2023) and grid.returns.shape == (5, 12)
    assert np.count_nonzero(np.isfinite(grid.returns)) == months.size
    assert grid.returns[4, 7] == monthly[-1] and np.isnan(grid.returns[4, 8])  # August 2023 is the last month
    years, yearly = series.yearly_returns(*bank_run.performance.yearly)
    assert years == grid.years
    np.testing.assert_allclose(np.nanprod(1 + grid.returns, axis=1) - 1, yearly, rtol=1e-12)


def test_costs_add_up_to_what_the_ledger_paid(bank_run: BacktestResult) -> None:
    lines = {line.name: line for line in costs_breakdown(bank_run.fills)}
    fees = sum(lines[name].total for name in ("commission", "stamp duty", "transfer fee"))
    assert fees == pytest.approx(bank_run.performance.total_costs, abs=0.01)
    assert lines["stamp duty"].buys == 0 and lines["stamp duty"].sells > 0  # a seller's tax
    assert lines["slippage (in the price)"].total == pytest.approx(bank_run.fills.slippage.sum())


def test_trades_keep_the_latest_rows_under_the_cap(bank_run: BacktestResult) -> None:
    fills = bank_run.fills
    capped = trade_columns(fills, limit=10)
    assert (capped.total, capped.shown) == (fills.qty.size, 10)
    assert capped.day == fills.day[-10:].tolist() and capped.qty == fills.qty[-10:].tolist()
    assert capped.value[-1] == pytest.approx(abs(fills.qty[-1]) * fills.price[-1], abs=0.005)


def test_refusals_are_counted_in_full_and_named(bank_run: BacktestResult) -> None:
    dates = [str(day) for day in bank_run.dates]
    listed = refusals_of(bank_run.refusals, dates, bank_run.codes, limit=5)
    assert listed.total == bank_run.refusals.reason.size > 5 and len(listed.rows) == 5
    assert sum(count for _, count in listed.by_reason) == listed.total
    assert listed.rows[-1].date == dates[int(bank_run.refusals.day[-1])]
    assert set(REASON_TEXT) == set(Reason)
    assert reason_text(Reason.T1_NOT_SELLABLE).startswith("t1_not_sellable: T+1")
    assert reason_text(99) == "reason 99: not known to this report"


def test_embedded_json_cannot_close_its_script_tag() -> None:
    data = {"name": "</script><script>alert(1)</script>", "line": "a\u2028b", "amp": "&lt;"}
    text = embeddable_json(data)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == data


def test_user_text_reaches_the_page_escaped(bank_report: str) -> None:
    assert "<img" not in bank_report and "<script>window.__xss" not in bank_report
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in bank_report
    assert "{{data}} 双均线" in bank_report  # a slot-like name stays text


def _large_run(codes: int = 500, days: int = 2_500) -> tuple[MarketPanel, BacktestResult]:
    """Random walks, the top 100 of a random score each week: tens of thousands of fills."""
    rng = np.random.default_rng(7)
    close = 10.0 * np.exp(np.cumsum(rng.normal(0, 0.02, (days, codes)), axis=0))
    pre_close = np.vstack([close[:1], close[:-1]])
    names = tuple(f"{600000 + i:06d}.SH" for i in range(codes))
    shape = (days, codes)
    panel = MarketPanel(
        dates=np.busday_offset(np.datetime64("2014-01-02"), np.arange(days), roll="forward").astype("datetime64[D]"),
        codes=names, open=pre_close * (1 + rng.normal(0, 0.005, shape)), high=close * 1.02, low=close * 0.98,
        close=close, pre_close=pre_close, volume=np.full(shape, 1e6), amount=close * 1e5,
        adj_factor=np.ones(shape), up_limit=np.full(shape, np.nan), down_limit=np.full(shape, np.nan),
        is_st=np.zeros(shape, bool), is_suspended=np.zeros(shape, bool), list_days=np.full(shape, 1_000),
        benchmark_close=close.mean(axis=1),
    )  # fmt: skip
    rebalance = np.arange(days) % 5 == 0
    engine = VectorEngine(panel)
    weights = top_n_weights(rng.random(shape), engine.eligible(), 100, rebalance, 0.99)
    return panel, engine.run_weights(weights, rebalance)


def test_a_500_by_2500_run_renders_to_a_few_megabytes() -> None:
    panel, result = _large_run()
    assert result.fills.qty.size > 20_000
    config = RunConfig(start=date(2014, 1, 2), end=panel.days[-1], initial_cash=1_000_000.0, codes=panel.codes)
    meta = ReportMeta("500 × 2500", "task", "weekly top 100", config, "hash", "v1")
    started = time.perf_counter()
    page = HtmlReportRenderer().render(result, meta)
    elapsed = time.perf_counter() - started
    size = len(page.encode())
    print(f"\n500 codes × 2,500 days, {result.fills.qty.size:,} fills: {size / 1e6:.2f} MB in {elapsed:.2f} s")
    assert size < 3_000_000 and elapsed < 5.0
    assert f"The run made {result.fills.qty.size:,} fills; the table embeds the latest 5,000" in page
