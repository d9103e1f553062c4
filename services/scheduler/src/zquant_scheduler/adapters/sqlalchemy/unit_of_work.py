"""The scheduler's unit of work: jobs, runs and deleted users on one session; events to the outbox on commit."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Table

from zquant_kit.persistence.unit_of_work import SqlAlchemyUnitOfWork
from zquant_scheduler.adapters.sqlalchemy import tables
from zquant_scheduler.adapters.sqlalchemy.job_repository import (
    SqlAlchemyDeletedUsers,
    SqlAlchemyJobRepository,
)
from zquant_scheduler.adapters.sqlalchemy.run_repository import SqlAlchemyRunRepository
from zquant_scheduler.application.job_ports import SchedulerUnitOfWork


class SqlAlchemySchedulerUnitOfWork(SqlAlchemyUnitOfWork, SchedulerUnitOfWork):
    processed_messages: ClassVar[Table | None] = tables.processed_messages

    def _enter(self) -> None:
        self.jobs = SqlAlchemyJobRepository(self.session)
        self.runs = SqlAlchemyRunRepository(self.session)
        self.deleted_users = SqlAlchemyDeletedUsers(self.session)
