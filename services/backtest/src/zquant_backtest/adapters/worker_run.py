"""One backtest inside a trusted worker process: the panel from the cache's memory maps, the strategy port from
the injected factory (the sandbox port in production: the user's code lives only in its child), the engine's
day loop, progress and cancellation through the run's ``ProgressBoard``.

What crosses the process boundary is the service's own data: the job (the spec as the service validated it,
file paths, the owner's factor token) going in, and the engine's result or a failure reason coming back; the
panel is never sent, the worker maps the cache's files. Nothing produced by user code is unpickled anywhere:
the sandbox port validates the child's replies before they reach the engine.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import grpc
import numpy as np

from zquant_backtest.adapters.factor_values import FactorServiceValues, GrpcFactorPanelReader, RefusedFactors
from zquant_backtest.adapters.panel_cache import PanelCache
from zquant_backtest.adapters.progress_board import ProgressBoard
from zquant_backtest.application.event_engine import EventEngine
from zquant_backtest.application.run_ports import EngineKind, RunConfig, RunSpec, StrategyCode
from zquant_backtest.application.strategy_port import (
    DayView,
    FactorSource,
    Phase,
    StrategyPort,
    StrategySetup,
)
from zquant_backtest.application.vector_engine import VectorEngine
from zquant_backtest.domain.arrays import BoolArray, FloatArray
from zquant_backtest.domain.costs import CommissionModel
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.order_book import OrderRequest
from zquant_backtest.domain.orders import FillSettings
from zquant_backtest.domain.params import InvalidParams, Param, validate_params
from zquant_backtest.domain.simulation import BacktestResult, RunSettings


class TargetsPort(Protocol):
    """A vectorised strategy: the target weights (dates × codes, NaN = 0) and the rebalance days, once."""

    @property
    def params_schema(self) -> Sequence[Param]: ...

    def targets(
        self, panel: MarketPanel, params: Mapping[str, object], factors: FactorSource | None
    ) -> tuple[FloatArray, BoolArray]: ...


StrategyFactory = Callable[[StrategyCode], StrategyPort]
"""A module-level callable (it is pickled by reference into the worker); a port holding a child process is also
a context manager, whose exit kills the child."""
TargetsFactory = Callable[[StrategyCode], TargetsPort]
Port = TypeVar("Port", StrategyPort, TargetsPort)


@dataclass(frozen=True)
class FactorAccess:
    """How the worker reads factors: the factor service's address and the owner's token, or why it cannot."""

    address: str
    token: str = ""
    refusal: str = ""


@dataclass(frozen=True)
class WorkerJob:
    spec: RunSpec
    cache_root: str
    cache_key: str
    board_path: str
    strategies: StrategyFactory
    targets: TargetsFactory | None = None
    factors: FactorAccess | None = None


@dataclass(frozen=True)
class WorkerOutcome:
    result: BacktestResult | None = None
    failure: str = ""
    cancelled: bool = False
    engine_seconds: float = 0.0
    panel_missing: bool = False
    """The cache entry was evicted before the worker opened it: the executor reads the panel again."""


class RunCancelled(Exception):
    """The service set the board's cancel flag."""


class StrategyFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def failure_reason(error: BaseException) -> str:
    """A port's own reason (the sandbox's ``SandboxRunFailed.reason``) or the exception's type and text."""
    reason = getattr(error, "reason", None)
    return reason if isinstance(reason, str) and reason else f"{type(error).__name__}: {error}"


class ReportingStrategy(StrategyPort):
    """The engine's strategy port around the real one: each day it reports progress and honours cancellation;
    whatever the strategy raises becomes ``StrategyFailed``."""

    def __init__(self, inner: StrategyPort, board: ProgressBoard, days: int) -> None:
        self._inner, self._board, self._days = inner, board, days

    @property
    def code_hash(self) -> str:
        return self._inner.code_hash

    @property
    def params_schema(self) -> Sequence[Param]:
        return self._inner.params_schema

    @property
    def phases(self) -> frozenset[Phase]:
        return self._inner.phases

    def initialize(self, setup: StrategySetup) -> None:
        try:
            self._inner.initialize(setup)
        except Exception as error:
            raise StrategyFailed(failure_reason(error)) from error

    def decide(self, view: DayView) -> Sequence[OrderRequest]:
        if self._board.cancelled:
            raise RunCancelled
        if view.phase is not Phase.AFTER_TRADING:
            self._board.report(view.day_index, self._days, view.now)
        try:
            return self._inner.decide(view)
        except Exception as error:
            raise StrategyFailed(failure_reason(error)) from error


def run_settings(config: RunConfig) -> RunSettings:
    costs = config.costs
    fills = FillSettings(
        timing=config.timing,
        slippage_bps=costs.slippage_bps,
        volume_cap=costs.volume_cap,
        commission=CommissionModel(rate=costs.commission_rate, minimum=costs.min_commission),
    )
    return RunSettings(initial_cash=config.initial_cash, fills=fills)


def run_backtest(job: WorkerJob) -> WorkerOutcome:
    """The worker's entry point (module level: the pool pickles it by reference)."""
    board = ProgressBoard(Path(job.board_path))
    panel = PanelCache(Path(job.cache_root), 0).open(job.cache_key)
    if panel is None:
        return WorkerOutcome(
            failure="the run's market panel left the cache before the run started", panel_missing=True
        )
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        factors = _factor_source(job, panel, stack)
        try:
            result = _run_engine(job, panel, board, factors, stack)
        except RunCancelled:
            return WorkerOutcome(cancelled=True)
        except StrategyFailed as error:
            return WorkerOutcome(failure=error.reason)
        except InvalidParams as error:
            return WorkerOutcome(failure=f"invalid params: {error}")
    board.report(len(panel.days), len(panel.days), panel.days[-1])
    return WorkerOutcome(result=result, engine_seconds=time.perf_counter() - started)


def _run_engine(
    job: WorkerJob,
    panel: MarketPanel,
    board: ProgressBoard,
    factors: FactorSource | None,
    stack: contextlib.ExitStack,
) -> BacktestResult:
    config = job.spec.config
    settings = run_settings(config)
    if config.engine is EngineKind.VECTOR:
        if job.targets is None:
            raise StrategyFailed("this worker has no vectorised strategy runner")
        port = _started(job.targets, job.spec.strategy, stack)
        params = validate_params(port.params_schema, config.params)
        try:
            weights, rebalance = port.targets(panel, params, factors)
        except Exception as error:
            raise StrategyFailed(failure_reason(error)) from error
        return VectorEngine(panel, settings).run_weights(
            np.asarray(weights, np.float64), np.asarray(rebalance, bool)
        )
    strategy = _started(job.strategies, job.spec.strategy, stack)
    engine = EventEngine(
        panel, ReportingStrategy(strategy, board, len(panel.days)), settings, factors=factors
    )
    return engine.run(dict(config.params))


def _started(
    factory: Callable[[StrategyCode], Port], code: StrategyCode, stack: contextlib.ExitStack
) -> Port:
    """The port, entered when it is a context manager; a refusal to start (the sandbox's static check, a child
    that would not come up) fails the run with its reason."""
    try:
        port = factory(code)
        if isinstance(port, contextlib.AbstractContextManager):
            stack.enter_context(port)
    except Exception as error:
        raise StrategyFailed(failure_reason(error)) from error
    return port


def _factor_source(job: WorkerJob, panel: MarketPanel, stack: contextlib.ExitStack) -> FactorSource | None:
    access = job.factors
    if access is None:
        return None
    if access.refusal:
        return RefusedFactors(access.refusal)
    channel = stack.enter_context(grpc.insecure_channel(access.address))
    config = job.spec.config
    return FactorServiceValues(
        GrpcFactorPanelReader(channel, access.token), panel.codes, config.start, config.end
    )
