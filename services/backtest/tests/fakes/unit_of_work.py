"""The service's unit of work in memory (the kit's transactional fake): every repository over one store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from zquant_backtest.adapters.sqlalchemy.result_codec import decode_result, encode_result
from zquant_backtest.application.strategy_ports import StrategyRepository
from zquant_backtest.application.task_ports import (
    DataVersions,
    ReportCache,
    ResultStore,
    TaskRecord,
    TaskRepository,
)
from zquant_backtest.domain.simulation import BacktestResult
from zquant_backtest.domain.strategies import StrategyRecord
from zquant_backtest.domain.tasks import TaskState
from zquant_kit.clock import as_utc
from zquant_kit.testing import FakeDatabase, FakeUnitOfWork, delete_where


@dataclass
class Store:
    strategies: dict[str, StrategyRecord] = field(default_factory=dict)
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    results: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    reports: dict[str, tuple[str, str]] = field(default_factory=dict)
    version: tuple[int, str] = (0, "0")
    processed: set[tuple[str, str]] = field(default_factory=set)


def _newest_first(rows, owner_id, after, limit):
    rows = sorted(rows, key=lambda r: (as_utc(r.created_at).isoformat(), r.id), reverse=True)
    if owner_id is not None:
        rows = [r for r in rows if r.owner_id == owner_id]
    if after is not None:
        rows = [r for r in rows if (as_utc(r.created_at).isoformat(), r.id) < (after[0], after[1])]
    return rows[:limit]


class FakeStrategies(StrategyRepository):
    def __init__(self, store: Store) -> None:
        self._s = store

    async def add(self, record: StrategyRecord) -> None:
        self._s.strategies[record.id] = dataclasses.replace(record)

    async def get(self, strategy_id: str) -> StrategyRecord | None:
        found = self._s.strategies.get(strategy_id)
        return None if found is None else dataclasses.replace(found)

    async def get_by_name(self, owner_id: str, name: str) -> StrategyRecord | None:
        return next(
            (r for r in self._s.strategies.values() if r.owner_id == owner_id and r.name == name), None
        )

    async def save(self, record: StrategyRecord) -> None:
        self._s.strategies[record.id] = dataclasses.replace(record)

    async def list_page(self, owner_id, after, limit) -> Sequence[StrategyRecord]:
        return _newest_first(self._s.strategies.values(), owner_id, after, limit)

    async def delete(self, strategy_id: str) -> None:
        self._s.strategies.pop(strategy_id, None)

    async def delete_owned(self, owner_id: str) -> int:
        return delete_where(self._s.strategies, lambda r: r.owner_id == owner_id)


class FakeTasks(TaskRepository):
    def __init__(self, store: Store) -> None:
        self._s = store

    async def add(self, record: TaskRecord) -> None:
        self._s.tasks[record.id] = dataclasses.replace(record)

    async def get(self, task_id: str, *, for_update: bool = False) -> TaskRecord | None:
        found = self._s.tasks.get(task_id)
        return None if found is None else dataclasses.replace(found)

    async def save(self, record: TaskRecord) -> None:
        self._s.tasks[record.id] = dataclasses.replace(record)

    async def by_idempotency_key(self, owner_id: str, key: str) -> TaskRecord | None:
        return next(
            (r for r in self._s.tasks.values() if r.owner_id == owner_id and r.idempotency_key == key), None
        )

    async def list_page(self, owner_id, state, after, limit) -> Sequence[TaskRecord]:
        rows = [r for r in self._s.tasks.values() if state is None or r.state is state]
        return _newest_first(rows, owner_id, after, limit)

    async def unfinished(self) -> Sequence[TaskRecord]:
        return [r for r in self._s.tasks.values() if r.state in (TaskState.QUEUED, TaskState.RUNNING)]

    async def list_owned(self, owner_id: str) -> Sequence[TaskRecord]:
        return [r for r in self._s.tasks.values() if r.owner_id == owner_id]

    async def delete(self, task_id: str) -> None:
        self._s.tasks.pop(task_id, None)


class FakeResults(ResultStore):
    """Through the real codec, so a unit test sees what a stored result reads back as."""

    def __init__(self, store: Store) -> None:
        self._s = store

    async def put(self, task_id: str, owner_id: str, result: BacktestResult) -> None:
        self._s.results[task_id] = (owner_id, encode_result(result))

    async def get(self, task_id: str) -> BacktestResult | None:
        found = self._s.results.get(task_id)
        return None if found is None else decode_result(found[1])

    async def delete(self, task_id: str) -> None:
        self._s.results.pop(task_id, None)

    async def delete_owned(self, owner_id: str) -> int:
        return delete_where(self._s.results, lambda row: row[0] == owner_id)


class FakeReports(ReportCache):
    def __init__(self, store: Store) -> None:
        self._s = store

    async def put(self, task_id: str, owner_id: str, html: str) -> None:
        self._s.reports[task_id] = (owner_id, html)

    async def get(self, task_id: str) -> str | None:
        found = self._s.reports.get(task_id)
        return None if found is None else found[1]

    async def delete(self, task_id: str) -> None:
        self._s.reports.pop(task_id, None)

    async def delete_owned(self, owner_id: str) -> int:
        return delete_where(self._s.reports, lambda row: row[0] == owner_id)


class FakeVersions(DataVersions):
    def __init__(self, store: Store) -> None:
        self._s = store

    async def current(self) -> str:
        return self._s.version[1]

    async def advance(self, run_id: str, at: dt.datetime) -> str:
        counter = self._s.version[0] + 1
        self._s.version = (counter, f"{counter}-{run_id}")
        return self._s.version[1]


class FakeBacktestUnitOfWork(FakeUnitOfWork[Store]):
    def _bind(self, work: Store) -> None:
        super()._bind(work)
        self.strategies = FakeStrategies(work)
        self.tasks = FakeTasks(work)
        self.results = FakeResults(work)
        self.reports = FakeReports(work)
        self.versions = FakeVersions(work)


def fake_database() -> FakeDatabase[Store]:
    return FakeDatabase(Store())
