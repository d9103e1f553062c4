"""The service's one SQLAlchemy unit of work: every repository on one session, the outbox and the
processed-messages table of schema `backtest`."""

from __future__ import annotations

from zquant_backtest.adapters.sqlalchemy import tables as t
from zquant_backtest.adapters.sqlalchemy.artefact_stores import (
    SqlAlchemyDataVersions,
    SqlAlchemyReportCache,
    SqlAlchemyResultStore,
)
from zquant_backtest.adapters.sqlalchemy.strategy_repository import SqlAlchemyStrategyRepository
from zquant_backtest.adapters.sqlalchemy.task_repository import SqlAlchemyTaskRepository
from zquant_backtest.application.unit_of_work_ports import BacktestUnitOfWork
from zquant_kit.persistence.unit_of_work import SqlAlchemyUnitOfWork


class SqlAlchemyBacktestUnitOfWork(SqlAlchemyUnitOfWork, BacktestUnitOfWork):
    processed_messages = t.processed_messages

    def _enter(self) -> None:
        self.strategies = SqlAlchemyStrategyRepository(self.session)
        self.tasks = SqlAlchemyTaskRepository(self.session)
        self.results = SqlAlchemyResultStore(self.session)
        self.reports = SqlAlchemyReportCache(self.session)
        self.versions = SqlAlchemyDataVersions(self.session)
