"""The four event-engine templates run end to end through the real sandbox and the real engine on the real bank
bars (2019 … 2023), with their default params, and trade: the strategy port is `SandboxStrategyPort`, the fills
go through the rules core."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from zquant_backtest.adapters.sandbox.limits import SandboxLimits
from zquant_backtest.adapters.sandbox.strategy import SandboxStrategyPort
from zquant_backtest.adapters.templates import PackagedTemplateCatalog
from zquant_backtest.application.event_engine import EventEngine
from zquant_backtest.application.report_ports import StrategyTemplate
from zquant_backtest.application.run_ports import StrategyCode
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.simulation import BacktestResult

from .conftest import template_of

pytestmark = pytest.mark.sandbox

LIMITS = SandboxLimits(cpu_seconds=60, start_deadline_s=60.0, day_deadline_s=5.0, total_deadline_s=120.0)
EVENT_TEMPLATES = ("buy_and_hold", "dual_ma_crossover", "macd_cross", "rsi_mean_reversion")


def run_template(template: StrategyTemplate, panel: MarketPanel) -> BacktestResult:
    code = StrategyCode(template.source, template.params_schema)
    with SandboxStrategyPort(code, LIMITS) as port:
        return EventEngine(panel, port).run(dict(template.default_params))


@pytest.fixture(scope="module")
def results(catalog: PackagedTemplateCatalog, bank_panel: MarketPanel) -> dict[str, BacktestResult]:
    with ThreadPoolExecutor(len(EVENT_TEMPLATES)) as pool:
        runs = pool.map(lambda name: run_template(template_of(catalog, name), bank_panel), EVENT_TEMPLATES)
        return dict(zip(EVENT_TEMPLATES, runs, strict=True))


def test_buy_and_hold_buys_every_bank_on_the_first_day_and_holds(results: dict[str, BacktestResult]) -> None:
    fills = results["buy_and_hold"].fills
    assert sorted(fills.code.tolist()) == [0, 1, 2, 3]
    assert set(fills.day.tolist()) == {1}  # decided at day 0's close, filled at day 1's open
    assert (fills.qty > 0).all()


@pytest.mark.parametrize("name", EVENT_TEMPLATES[1:])
def test_the_signal_templates_buy_and_sell(results: dict[str, BacktestResult], name: str) -> None:
    result = results[name]
    qty = result.fills.qty
    assert int((qty > 0).sum()) >= 2 and int((qty < 0).sum()) >= 1, qty
    warm_up = {"dual_ma_crossover": 20, "macd_cross": 33, "rsi_mean_reversion": 14}[name]
    assert int(result.fills.day.min()) > warm_up  # no signal before the indicator's window is full
    assert np.all(result.equity.cash >= -1e-6)
