"""The event-driven engine: each trading day, before the open (optional), the fills of the orders decided the day
before, then the strategy at the close; every fill goes through the rules core (``domain.simulation``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from zquant_backtest.application.strategy_port import (
    DayView,
    FactorSource,
    Phase,
    PortfolioSnapshot,
    StrategyPort,
    StrategySetup,
)
from zquant_backtest.domain.arrays import BoolArray, FloatArray
from zquant_backtest.domain.fingerprint import fingerprint
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.order_book import OrderBook
from zquant_backtest.domain.params import validate_params
from zquant_backtest.domain.selection import UniverseSelection
from zquant_backtest.domain.simulation import BacktestResult, RunSettings, Simulation
from zquant_backtest.domain.window import MarketWindow

_CLOSE_PHASES = (Phase.HANDLE_BAR, Phase.AFTER_TRADING)


@dataclass
class EventEngine:
    panel: MarketPanel
    strategy: StrategyPort
    settings: RunSettings = field(default_factory=RunSettings)
    selection: UniverseSelection = field(default_factory=UniverseSelection)
    factors: FactorSource | None = None

    def run(self, params: Mapping[str, object] | None = None) -> BacktestResult:
        """Unknown or out-of-bounds ``params`` raise ``InvalidParams`` before anything runs."""
        panel, strategy = self.panel, self.strategy
        validated = validate_params(strategy.params_schema, params or {})
        simulation = Simulation(panel, self.settings)
        book = OrderBook(len(panel.codes))
        static = self.selection.static_mask(panel)
        strategy.initialize(StrategySetup(panel.codes, validated, panel.days[0], panel.days[-1]))
        phases = strategy.phases
        for t in range(len(panel.days)):
            eligible = self.selection.eligible(panel, t, static)
            if Phase.BEFORE_TRADING in phases:
                self._decide(Phase.BEFORE_TRADING, t, t, simulation, book, eligible)
            simulation.step(t, book.take())
            for phase in _CLOSE_PHASES:
                if phase in phases:
                    self._decide(phase, t, t + 1, simulation, book, eligible)
        digest = fingerprint(panel, strategy.code_hash, validated, (self.settings, self.selection))
        return simulation.finish(book.take(), digest)

    def _decide(
        self,
        phase: Phase,
        t: int,
        visible: int,
        simulation: Simulation,
        book: OrderBook,
        eligible: BoolArray,
    ) -> None:
        """One callback: the view it may see, its requests into the book (priced at the latest visible close)."""
        state = simulation.state()
        ledger = simulation.ledger
        snapshot = PortfolioSnapshot(
            cash=ledger.cash,
            total_value=state.total_value,
            qty=state.qty,
            sellable=ledger.sellable.copy(),
            price=state.price,
            cost_basis=lambda: _cost_basis(simulation),
        )
        as_of = self.panel.days[visible - 1] if visible > 0 else self.panel.days[0]
        view = DayView(
            phase=phase,
            day_index=t,
            now=self.panel.days[t],
            codes=self.panel.codes,
            market=MarketWindow(self.panel, visible),
            portfolio=snapshot,
            eligible=eligible.copy(),
            factor=lambda name: self._factor(name, as_of),
        )
        book.eligible = eligible
        book.place(self.strategy.decide(view), state)
        simulation.recorder.refuse_at_placement(t, book.refused)
        book.refused.clear()

    def _factor(self, name: str, on: date) -> FloatArray:
        if self.factors is None:
            raise LookupError("this backtest has no factor source")
        return np.asarray(self.factors.values(name, on, self.panel.codes), dtype=np.float64)


def _cost_basis(simulation: Simulation) -> FloatArray:
    ledger = simulation.ledger
    basis = np.zeros(ledger.n)
    for index in np.flatnonzero(ledger.qty).tolist():
        basis[index] = ledger.lots.cost_basis(index)
    return basis
