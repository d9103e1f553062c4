"""The day loop both engines share: day t's fills of the orders decided on day t−1 (``day.trade_day``), then the
record; what decides the next orders (a strategy or a target panel) is the caller's business."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zquant_backtest.domain.arrays import DateArray, FloatArray, IntArray
from zquant_backtest.domain.corporate_actions import DividendSchedule
from zquant_backtest.domain.day import DayResult, trade_day
from zquant_backtest.domain.ledger import Ledger
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.order_book import PortfolioState
from zquant_backtest.domain.orders import FillSettings
from zquant_backtest.domain.performance import Performance, activity_of, summarise
from zquant_backtest.domain.record import EquityCurve, FillRows, PositionRows, Recorder, RefusalRows
from zquant_backtest.domain.rules import RULES_VERSION


@dataclass(frozen=True)
class RunSettings:
    initial_cash: float = 1_000_000.0
    fills: FillSettings = field(default_factory=FillSettings)
    dividend_tax: bool = False
    risk_free: float = 0.0
    """Per-day rate for Sharpe, Sortino and alpha."""


@dataclass(frozen=True, eq=False)
class BacktestResult:
    dates: DateArray
    codes: tuple[str, ...]
    equity: EquityCurve
    fills: FillRows
    refusals: RefusalRows
    positions: PositionRows
    unfilled_at_end: IntArray
    """Orders decided on the last day, with no day left to fill them."""
    performance: Performance
    rules_version: str
    fingerprint: str


@dataclass
class Simulation:
    panel: MarketPanel
    settings: RunSettings
    ledger: Ledger = field(init=False)
    recorder: Recorder = field(default_factory=Recorder)
    _dividends: DividendSchedule | None = field(init=False)

    def __post_init__(self) -> None:
        self.ledger = Ledger(len(self.panel.codes), self.settings.initial_cash, self.settings.dividend_tax)
        self._dividends = DividendSchedule(self.panel.dividends) if self.panel.dividends else None

    def step(self, t: int, orders: IntArray) -> DayResult:
        """Fill ``orders`` (decided on day t−1) on day t, then mark to market and record the day."""
        panel = self.panel
        ratio = None if self._dividends is not None else panel.adj_ratio(t)
        result = trade_day(
            panel.days[t],
            orders,
            panel.day(t),
            panel.universe,
            self.ledger,
            self.settings.fills,
            self._dividends,
            ratio,
        )
        self.recorder.day(t, result, self.ledger)
        return result

    def state(self) -> PortfolioState:
        """The portfolio as a decision at today's close sees it: last prices and the NAV of that close."""
        ledger = self.ledger
        total = ledger.cash + float(ledger.market_value().sum())
        return PortfolioState(qty=ledger.qty.copy(), price=ledger.last_price.copy(), total_value=total)

    def finish(self, unfilled: IntArray, fingerprint: str) -> BacktestResult:
        panel, settings = self.panel, self.settings
        equity = self.recorder.equity(panel.benchmark_close, settings.initial_cash)
        benchmark: FloatArray | None = None
        if equity.benchmark_nav is not None:
            benchmark = np.concatenate(([0.0], equity.benchmark_nav[1:] / equity.benchmark_nav[:-1] - 1.0))
        performance = summarise(
            panel.dates,
            equity.nav,
            settings.initial_cash,
            activity_of(self.ledger),
            benchmark,
            settings.risk_free,
        )
        return BacktestResult(
            dates=panel.dates,
            codes=panel.codes,
            equity=equity,
            fills=self.recorder.fills(),
            refusals=self.recorder.refusals(),
            positions=self.recorder.positions(),
            unfilled_at_end=unfilled,
            performance=performance,
            rules_version=RULES_VERSION,
            fingerprint=fingerprint,
        )
