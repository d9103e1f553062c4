"""One unit of work over every table of the service, so a consumer removes a user's rows in one transaction."""

from __future__ import annotations

from typing import Protocol

from zquant_backtest.application.strategy_ports import StrategyRepository
from zquant_backtest.application.task_ports import DataVersions, ReportCache, ResultStore, TaskRepository
from zquant_kit import unit_of_work as kit_uow


class BacktestUnitOfWork(kit_uow.UnitOfWork, Protocol):
    """The kit's `UnitOfWork` protocol with the service's repositories."""

    strategies: StrategyRepository
    tasks: TaskRepository
    results: ResultStore
    reports: ReportCache
    versions: DataVersions


UnitOfWorkFactory = kit_uow.UnitOfWorkFactory[BacktestUnitOfWork]
