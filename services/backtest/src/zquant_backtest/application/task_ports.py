"""The task records, their stored results and reports, and the market data version runs are keyed by.

A task's record is the service's account of it (owner, inputs, state, progress, outcome); the job queue only
carries its id. Results are the engine's own `BacktestResult`, stored compactly by the adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from zquant_backtest.application.run_ports import RunConfig
from zquant_backtest.domain.simulation import BacktestResult
from zquant_backtest.domain.tasks import TaskState, moved


@dataclass(kw_only=True)
class TaskRecord:
    id: str
    owner_id: str
    code: str
    params_schema: Mapping[str, object]
    code_hash: str
    config: RunConfig
    data_version: str
    created_at: dt.datetime
    strategy_id: str = ""
    strategy_name: str = ""
    template_name: str = ""
    idempotency_key: str = ""
    state: TaskState = TaskState.QUEUED
    percent: float = 0.0
    current_date: dt.date | None = None
    attempts: int = 0
    error: str = ""
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    fingerprint: str = ""
    rules_version: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    """The headline metrics once succeeded (the whole result is in the result store)."""

    def move(self, state: TaskState, now: dt.datetime) -> None:
        self.state = moved(self.state, state)
        if state.final:
            self.finished_at = now


class DuplicateIdempotencyKey(Exception):
    """Another submit with the same (owner, idempotency key) committed first."""


class TaskRepository(Protocol):
    async def add(self, record: TaskRecord) -> None:
        """Raises `DuplicateIdempotencyKey` when the owner's key is taken (at the latest at commit)."""
        ...

    async def get(self, task_id: str, *, for_update: bool = False) -> TaskRecord | None:
        """`for_update`: the row is locked until commit, so two processes never both move it."""
        ...

    async def save(self, record: TaskRecord) -> None: ...

    async def by_idempotency_key(self, owner_id: str, key: str) -> TaskRecord | None: ...

    async def list_page(
        self, owner_id: str | None, state: TaskState | None, after: tuple[str, str] | None, limit: int
    ) -> Sequence[TaskRecord]:
        """Newest first by (created_at ISO text, id); every owner's when `owner_id` is None."""
        ...

    async def unfinished(self) -> Sequence[TaskRecord]: ...

    async def list_owned(self, owner_id: str) -> Sequence[TaskRecord]: ...

    async def delete(self, task_id: str) -> None: ...


class ResultStore(Protocol):
    async def put(self, task_id: str, owner_id: str, result: BacktestResult) -> None: ...

    async def get(self, task_id: str) -> BacktestResult | None: ...

    async def delete(self, task_id: str) -> None: ...

    async def delete_owned(self, owner_id: str) -> int: ...


class ReportCache(Protocol):
    """Rendered reports, kept until their task goes."""

    async def put(self, task_id: str, owner_id: str, html: str) -> None: ...

    async def get(self, task_id: str) -> str | None: ...

    async def delete(self, task_id: str) -> None: ...

    async def delete_owned(self, owner_id: str) -> int: ...


class DataVersions(Protocol):
    async def current(self) -> str: ...

    async def advance(self, run_id: str, at: dt.datetime) -> str:
        """A new version after a sync run wrote data; returns it."""
        ...


class Clock(Protocol):
    def now(self) -> dt.datetime: ...
