"""One unit of work over every table of the service, so a consumer removes a user's rows in one transaction."""

from __future__ import annotations

from typing import Protocol

from zquant_backtest.application.strategy_ports import StrategyRepository
from zquant_backtest.application.task_ports import DataVersions, ReportCache, ResultStore, TaskRepository
from zquant_kit.events.model import Event


class BacktestUnitOfWork(Protocol):
    """The kit's `UnitOfWork` protocol with the service's repositories (spelled out: the kit ships no stubs)."""

    strategies: StrategyRepository
    tasks: TaskRepository
    results: ResultStore
    reports: ReportCache
    versions: DataVersions

    async def __aenter__(self) -> BacktestUnitOfWork: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    def emit(self, event: Event) -> None: ...
    async def claim(self, consumer: str, event_id: str) -> bool: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> BacktestUnitOfWork: ...
