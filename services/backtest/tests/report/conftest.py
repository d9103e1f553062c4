"""A real engine run on the four real SSE banks (tests/unit's ``bank_panel``) and the report of it."""

from __future__ import annotations

import numpy as np
import pytest

from zquant_backtest.adapters.in_process_strategy import InProcessStrategy
from zquant_backtest.adapters.report import HtmlReportRenderer
from zquant_backtest.application.event_engine import EventEngine
from zquant_backtest.application.report_ports import ReportMeta
from zquant_backtest.application.run_ports import RunConfig
from zquant_backtest.application.strategy_api import Bars, Context, Strategy
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.orders import FillSettings
from zquant_backtest.domain.simulation import BacktestResult, RunSettings

from ..unit.conftest import PanelFactory, bank_panel, panel_of  # noqa: F401  (fixtures shared, not copied)

XSS_NAME = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>{{data}} 双均线"


class Crossover(Strategy):
    """10/40-day moving-average crossover, a third of the NAV per bank: enough fills of both sides."""

    def handle_bar(self, context: Context, bars: Bars) -> None:
        closes = np.asarray(context.history(list(context.codes), "close", 40), dtype=np.float64)
        if closes.shape[0] < 40:
            return
        fast, slow = np.nanmean(closes[-10:], axis=0), np.nanmean(closes, axis=0)
        for i, code in enumerate(context.codes):
            held = context.portfolio.quantities[i] > 0
            if fast[i] > slow[i] and not held:
                context.order_target_percent(code, 0.33)
            elif fast[i] < slow[i] and held:
                context.order_target_shares(code, 0)


@pytest.fixture(scope="session")
def bank_run(bank_panel: MarketPanel) -> BacktestResult:  # noqa: F811
    settings = RunSettings(initial_cash=1_000_000.0, fills=FillSettings(slippage_bps=5.0))
    return EventEngine(bank_panel, InProcessStrategy(Crossover()), settings).run()


def meta_of(panel: MarketPanel, strategy_name: str) -> ReportMeta:
    config = RunConfig(
        start=panel.days[0], end=panel.days[-1], initial_cash=1_000_000.0, codes=panel.codes,
        benchmark="000001.SH", params={"fast": 10, "slow": 40},
    )  # fmt: skip
    return ReportMeta(
        title=f"Backtest of {strategy_name}", task_id="task-report-test", strategy_name=strategy_name,
        config=config, code_hash="c0de" * 16, data_version="shared-data-v1", benchmark_name="上证综指 000001.SH",
        created_at="2026-12-01T12:00:00Z",
    )  # fmt: skip


@pytest.fixture(scope="session")
def bank_report(bank_panel: MarketPanel, bank_run: BacktestResult) -> str:  # noqa: F811
    return HtmlReportRenderer().render(bank_run, meta_of(bank_panel, XSS_NAME))



@pytest.fixture
def idle_report(panel_of: PanelFactory) -> str:  # noqa: F811
    """A month of flat prices, no trade and no benchmark: every chart's degenerate case."""
    panel = panel_of(("600000.SH", "000001.SZ"), 22)
    result = EventEngine(panel, InProcessStrategy(Strategy())).run()
    return HtmlReportRenderer().render(result, meta_of(panel, "does nothing"))
