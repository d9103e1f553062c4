"""The strategy port over a Python object in this process (tests, templates): JoinQuant-style callbacks on a
``Context``; the orders they place are handed back to the engine."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Sequence

from zquant_backtest.application.strategy_api import Context, Strategy
from zquant_backtest.application.strategy_port import DayView, Phase, StrategyPort, StrategySetup
from zquant_backtest.domain.order_book import OrderRequest
from zquant_backtest.domain.params import Param


class InProcessStrategy(StrategyPort):
    def __init__(self, strategy: Strategy) -> None:
        self._strategy = strategy
        self._context: Context | None = None
        source = inspect.getsource(type(strategy))
        self._code_hash = hashlib.sha256(source.encode()).hexdigest()
        optional = [
            phase for phase in (Phase.BEFORE_TRADING, Phase.AFTER_TRADING) if hasattr(strategy, phase.value)
        ]
        self._phases = frozenset([Phase.HANDLE_BAR, *optional])

    @property
    def code_hash(self) -> str:
        return self._code_hash

    @property
    def params_schema(self) -> Sequence[Param]:
        return self._strategy.params_schema

    @property
    def phases(self) -> frozenset[Phase]:
        return self._phases

    def initialize(self, setup: StrategySetup) -> None:
        self._context = Context(setup)
        self._strategy.initialize(self._context)

    def decide(self, view: DayView) -> Sequence[OrderRequest]:
        context = self._context
        if context is None:
            raise RuntimeError("initialize the strategy before the first day")
        context.begin(view)
        if view.phase is Phase.HANDLE_BAR:
            self._strategy.handle_bar(context, context.bars())
        else:
            getattr(self._strategy, view.phase.value)(context)
        return context.requests()
