"""The strategy as a port: the engine hands it the day's view and gets order requests back. The in-process adapter
runs a Python object (tests, templates); the next issue's sandbox implements the same protocol out of process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Protocol

from zquant_backtest.domain.arrays import BoolArray, FloatArray, IntArray
from zquant_backtest.domain.order_book import OrderRequest
from zquant_backtest.domain.params import Param, ParamValue
from zquant_backtest.domain.window import MarketWindow


class Phase(Enum):
    BEFORE_TRADING = "before_trading"
    """Before day t's open: sees rows up to t − 1; its orders fill at day t's bar, and it may cancel the orders
    decided on day t − 1 before they fill."""
    HANDLE_BAR = "handle_bar"
    """At day t's close: sees rows up to t; its orders fill at day t + 1's bar."""
    AFTER_TRADING = "after_trading"
    """After day t's close, like ``HANDLE_BAR``."""


@dataclass(frozen=True, eq=False)
class PortfolioSnapshot:
    cash: float
    total_value: float
    qty: IntArray
    sellable: IntArray
    price: FloatArray
    """Last close per code (a suspended code keeps its last)."""
    cost_basis: Callable[[], FloatArray]
    """Per code: what the shares held cost, fees included (FIFO lots); computed on demand."""


@dataclass(frozen=True, eq=False)
class DayView:
    phase: Phase
    day_index: int
    now: date
    codes: tuple[str, ...]
    market: MarketWindow
    portfolio: PortfolioSnapshot
    eligible: BoolArray
    """The day's universe: buys outside it are refused."""
    factor: Callable[[str], FloatArray]
    """Today's values of a factor, one per code (NaN where missing), as of the day the view can see."""


@dataclass(frozen=True)
class StrategySetup:
    codes: tuple[str, ...]
    params: dict[str, ParamValue]
    start: date
    end: date


class StrategyPort(Protocol):
    @property
    def code_hash(self) -> str:
        """sha256 of the strategy's code, for the result's fingerprint."""
        ...

    @property
    def params_schema(self) -> Sequence[Param]: ...

    @property
    def phases(self) -> frozenset[Phase]:
        """The phases the strategy has callbacks for; the engine asks only those."""
        ...

    def initialize(self, setup: StrategySetup) -> None: ...

    def decide(self, view: DayView) -> Sequence[OrderRequest]: ...


class FactorSource(Protocol):
    """Factor values from the factor service (a fake in tests)."""

    def values(self, name: str, on: date, codes: Sequence[str]) -> FloatArray:
        """``name``'s values on ``on``, one per code, computed from data up to ``on`` only."""
        ...
