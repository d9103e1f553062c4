"""The four event-engine templates run end to end in the real sandbox on the real bank bars (2019 … 2023), with
their default params, and trade. A paper ledger stands in for the engine here (target percents filled at the
day's close in lots of 100), so positions and cash move as the templates expect; the engine's own fills are the
engine's tests' business."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np
import pytest

from zquant_backtest.adapters.sandbox.messages import OrderKind, PortfolioView, SandboxOrder
from zquant_backtest.adapters.sandbox.strategy import SandboxLimits, SandboxStrategy
from zquant_backtest.adapters.templates import PackagedTemplateCatalog
from zquant_backtest.application.report_ports import StrategyTemplate
from zquant_backtest.domain.market import MarketPanel

from .conftest import template_of

pytestmark = pytest.mark.sandbox

FIELDS = ("open", "high", "low", "close", "volume", "amount")
LIMITS = SandboxLimits(memory_bytes=3 << 29, cpu_seconds=60, start_deadline_s=60.0, day_deadline_s=5.0,
                       total_deadline_s=120.0)  # fmt: skip
EVENT_TEMPLATES = ("buy_and_hold", "dual_ma_crossover", "macd_cross", "rsi_mean_reversion")


@dataclass
class PaperLedger:
    cash: float
    shares: np.ndarray
    buys: int = 0
    sells: int = 0
    orders: list[tuple[int, SandboxOrder]] = field(default_factory=list)

    def fill(self, day: int, orders: list[SandboxOrder], close: np.ndarray) -> None:
        priced = np.nan_to_num(close)
        total = self.cash + float(self.shares @ priced)
        for order in orders:
            assert order.kind is OrderKind.TARGET_PERCENT, order  # every template trades by target percent
            self.orders.append((day, order))
            price = priced[order.code_index]
            if price <= 0:
                continue
            target = np.floor(order.amount * total / price / 100.0) * 100.0
            change = target - self.shares[order.code_index]
            self.buys += int(change > 0)
            self.sells += int(change < 0)
            self.shares[order.code_index] = target
            self.cash -= change * price


async def run_template(template: StrategyTemplate, panel: MarketPanel) -> PaperLedger:
    strategy = SandboxStrategy(LIMITS)
    ledger = PaperLedger(cash=1_000_000.0, shares=np.zeros(len(panel.codes)))
    columns = [getattr(panel, name) for name in FIELDS]
    try:
        await strategy.start(template.source, dict(template.default_params), list(panel.codes), list(FIELDS))
        for t, day in enumerate(panel.dates):
            bars = np.column_stack([column[t] for column in columns])
            orders = await strategy.on_day(str(day), bars, PortfolioView(ledger.cash, ledger.shares.copy()))
            ledger.fill(t, orders, panel.close[t])
    finally:
        await strategy.close()
    return ledger


@pytest.fixture(scope="module")
def ledgers(catalog: PackagedTemplateCatalog, bank_panel: MarketPanel) -> dict[str, PaperLedger]:
    async def every() -> list[PaperLedger]:
        return await asyncio.gather(*(run_template(template_of(catalog, n), bank_panel) for n in EVENT_TEMPLATES))

    return dict(zip(EVENT_TEMPLATES, asyncio.run(every()), strict=True))


def test_buy_and_hold_buys_every_bank_on_the_first_day_and_holds(ledgers: dict[str, PaperLedger]) -> None:
    ledger = ledgers["buy_and_hold"]
    assert [day for day, _ in ledger.orders] == [0, 0, 0, 0]
    assert {order.amount for _, order in ledger.orders} == {0.98 / 4}
    assert ledger.buys == 4 and ledger.sells == 0 and (ledger.shares > 0).all()


@pytest.mark.parametrize("name", EVENT_TEMPLATES[1:])
def test_the_signal_templates_buy_and_sell(ledgers: dict[str, PaperLedger], name: str) -> None:
    ledger = ledgers[name]
    assert ledger.buys >= 2 and ledger.sells >= 1, (ledger.buys, ledger.sells)
    first_day = ledger.orders[0][0]
    warm_up = {"dual_ma_crossover": 20, "macd_cross": 33, "rsi_mean_reversion": 14}[name]
    assert first_day >= warm_up  # no signal before the indicator's window is full
    assert ledger.cash > 0
