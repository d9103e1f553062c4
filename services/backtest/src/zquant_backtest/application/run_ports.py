"""What the service hands a trusted worker to run one backtest, and what comes back.

The task use cases (queue, states, results) depend only on ``RunExecutor``; the adapter behind it loads the market
panel, starts the user's code in the sandbox, drives the engine and returns the engine's own result. Tests give the
use cases a fake executor.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from zquant_backtest.domain.orders import Timing
from zquant_backtest.domain.params import ParamValue
from zquant_backtest.domain.simulation import BacktestResult


class EngineKind(enum.StrEnum):
    EVENT = "event"
    """Per-day callbacks (``initialize`` / ``handle_bar`` …) through the strategy port."""
    VECTOR = "vector"
    """The strategy returns a target-weights panel once (``targets(context)``), e.g. factor top-N rotation."""


@dataclass(frozen=True)
class CostConfig:
    commission_rate: float = 0.00025
    min_commission: float = 5.0
    slippage_bps: float = 0.0
    volume_cap: float | None = None
    """Largest fraction of a bar's volume one order may take."""


@dataclass(frozen=True)
class RunConfig:
    """A backtest's inputs besides the code, already validated by the submit use case."""

    start: date
    end: date
    initial_cash: float
    codes: tuple[str, ...] = ()
    """An explicit universe; empty when ``index_code`` names one."""
    index_code: str | None = None
    """An index universe (its members on each date, e.g. ``000300.SH``)."""
    benchmark: str | None = None
    costs: CostConfig = field(default_factory=CostConfig)
    timing: Timing = Timing.OPEN
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    engine: EngineKind = EngineKind.EVENT


@dataclass(frozen=True)
class StrategyCode:
    source: str
    """The user's module text: it only ever runs inside the sandbox."""
    params_schema: Mapping[str, object]
    """``{name: {"type", "min", "max", "default", "choices", "required", "description"}}``."""


@dataclass(frozen=True)
class RunSpec:
    task_id: str
    owner_id: str
    strategy: StrategyCode
    config: RunConfig
    data_version: str
    """The market data version (advanced by ``marketdata.sync.completed.v1``) that keys the panel cache."""


class RunProgress(Protocol):
    async def report(self, percent: float, current: date | None) -> None:
        """``percent`` in [0, 100]; ``current`` the trading day the engine has reached."""
        ...


class RunFailed(Exception):
    """The run cannot succeed (the code failed, the sandbox refused it, data is missing): the task fails with
    ``reason``, which is safe to show to the task's owner."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RunExecutor(Protocol):
    async def execute(self, spec: RunSpec, progress: RunProgress) -> BacktestResult:
        """Runs one backtest; raises ``RunFailed`` with a reason, or is cancelled (asyncio) when the task is."""
        ...
