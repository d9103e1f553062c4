"""Outbound ports of the calculation jobs: the job records, and the worker pool the computation runs in.

A job's record is the service's own account of it (owner, state, progress, outcome); the job queue only
carries the payload. The values themselves go to `FactorValueStore` and the recursions' state to
`IndicatorStateStore` (application/value_ports.py), outside this unit of work: a value write is idempotent,
so a retried job rewrites the same values.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from zquant_kit.events.model import Event
from zquant_kit.jobs import JobState


class RunMode(enum.Enum):
    FULL = "full"
    INCREMENTAL = "incremental"


@dataclass(eq=False, kw_only=True)
class CalculationRecord:
    """`codes` empty means the universe (every listed stock) at run time."""

    id: str
    owner_id: str
    factor_ids: tuple[str, ...]
    codes: tuple[str, ...]
    start: dt.date
    end: dt.date
    mode: RunMode
    created_at: dt.datetime
    state: JobState = JobState.QUEUED
    percent: float = 0.0
    message: str = ""
    error: str = ""
    finished_at: dt.datetime | None = None
    values_written: int = 0
    factor_names: tuple[str, ...] = field(default_factory=tuple)


class CalculationRepository(Protocol):
    async def add(self, record: CalculationRecord) -> None: ...

    async def get(self, job_id: str) -> CalculationRecord | None: ...

    async def claim_key(self, owner_id: str, key: str, job_id: str, now: dt.datetime) -> str:
        """Binds (owner, idempotency key) to `job_id` unless already bound (insert-or-ignore, in the caller's
        transaction); returns the job the key is bound to."""
        ...

    async def list_page(
        self, owner_id: str | None, after: tuple[str, str] | None, limit: int
    ) -> Sequence[CalculationRecord]:
        """Newest first by (created_at ISO text, id), after the previous page's last key; every owner's
        jobs when `owner_id` is None (an admin's listing)."""
        ...

    async def list_owned(self, owner_id: str) -> Sequence[CalculationRecord]: ...

    async def list_unfinished(self) -> Sequence[CalculationRecord]:
        """Every owner's queued and running jobs, oldest first."""
        ...

    async def delete(self, record: CalculationRecord) -> None:
        """The record and any idempotency key bound to it."""
        ...


class CalculationUnitOfWork(Protocol):
    """The kit's `UnitOfWork` protocol with the job records (spelled out: the kit ships no type stubs)."""

    calculations: CalculationRepository

    async def __aenter__(self) -> CalculationUnitOfWork: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    def emit(self, event: Event) -> None: ...
    async def claim(self, consumer: str, event_id: str) -> bool: ...
    async def commit(self) -> None: ...


class CalculationUnitOfWorkFactory(Protocol):
    def __call__(self) -> CalculationUnitOfWork: ...


class ComputePool(Protocol):
    """Where CPU work runs: `zquant_kit.workers.WorkerProcesses` in the service, inline in unit tests. `size`
    calls run at once: a calculation splits a chunk's units into that many calls."""

    @property
    def size(self) -> int: ...

    async def run(self, function: Callable[..., Any], *args: Any) -> Any: ...
