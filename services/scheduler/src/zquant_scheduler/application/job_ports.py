"""Ports of the scheduler's use cases: repositories in one unit of work, the target services, the trade calendar
and the config check against the targets' own request bounds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from zquant_kit import unit_of_work as kit_uow
from zquant_scheduler.domain.calendar import TradeCalendar
from zquant_scheduler.domain.jobs import Job
from zquant_scheduler.domain.runs import Attempt, Run, RunStatus


@dataclass(frozen=True)
class RunFilter:
    owner_id: str | None = None
    job_id: str | None = None
    status: RunStatus | None = None
    scheduled_after: dt.datetime | None = None
    scheduled_before: dt.datetime | None = None


@dataclass(frozen=True)
class Lease:
    """A replica holds the runs it executes until `until`; a run whose lease lapsed is taken over."""

    holder: str
    until: dt.datetime


class JobRepository(Protocol):
    async def add(self, job: Job) -> None: ...

    async def get(self, job_id: str) -> Job | None: ...

    async def get_many(self, job_ids: Sequence[str]) -> dict[str, Job]: ...

    async def name_taken(self, owner_id: str, name: str, other_than: str | None) -> bool: ...

    async def save(self, job: Job) -> None: ...

    async def delete(self, job_id: str) -> None: ...

    async def list_jobs(self, owner_id: str | None, after: tuple[str, str] | None, limit: int) -> Sequence[Job]:
        """By (name, id); `owner_id` None lists everyone's."""
        ...

    async def delete_owned(self, owner_id: str) -> int: ...

    async def claim_due(self, now: dt.datetime, limit: int) -> Sequence[Job]:
        """Active jobs with `next_run_at <= now`, locked for this transaction; rows another replica holds are
        skipped (`FOR UPDATE SKIP LOCKED`), so two claims never return the same job."""
        ...

    async def set_next_runs(self, next_runs: Mapping[str, dt.datetime | None]) -> None: ...


class RunRepository(Protocol):
    async def add_new(self, runs: Sequence[Run], lease: Lease | None) -> list[Run]:
        """Inserts the runs that do not exist yet for their (job, scheduled time); returns those inserted."""
        ...

    async def get(self, run_id: str) -> Run | None: ...

    async def save(self, run: Run, lease: Lease | None) -> None: ...

    async def held_many(self, run_ids: Sequence[str], holder: str) -> dict[str, Run]:
        """Those runs, locked, that `holder` still leases and that have not ended (a cancel ends a run)."""
        ...

    async def save_many(self, runs: Sequence[tuple[Run, Lease | None]]) -> None: ...

    async def add_attempts(self, attempts: Sequence[Attempt]) -> None: ...

    async def attempts(self, run_id: str) -> list[Attempt]: ...

    async def claim_ready(self, now: dt.datetime, lease: Lease, limit: int) -> list[Run]:
        """Unended runs no live lease holds (new manual triggers, retries due, runs of a replica that died), now
        leased to `lease.holder` and running."""
        ...

    async def renew(self, run_ids: Sequence[str], lease: Lease) -> set[str]:
        """Extends the lease of those runs still held and unended; returns their ids."""
        ...

    async def release(self, holder: str, now: dt.datetime) -> None:
        """Ends every lease of `holder` at once (a replica stopping hands its runs over)."""
        ...

    async def list_runs(self, where: RunFilter, after: tuple[dt.datetime, str] | None, limit: int) -> list[Run]:
        """Newest scheduled first, by (scheduled_time, id) descending."""
        ...

    async def cancel_unended(self, where: RunFilter, now: dt.datetime, reason: str) -> int: ...


class DeletedUsers(Protocol):
    async def add(self, user_id: str) -> None: ...

    async def contains(self, user_id: str) -> bool: ...


class SchedulerUnitOfWork(kit_uow.UnitOfWork, Protocol):
    jobs: JobRepository
    runs: RunRepository
    deleted_users: DeletedUsers


UnitOfWorkFactory = kit_uow.UnitOfWorkFactory[SchedulerUnitOfWork]


@dataclass(frozen=True)
class TargetCall:
    """`idempotency_key` is the run id (with a digest of the step name in a pipeline; only [A-Za-z0-9_-], as the
    targets accept): a target that sees it twice works once. `token` is the owner's, limited to the call's scopes."""

    idempotency_key: str
    token: str
    request: Mapping[str, Any]


@dataclass(frozen=True)
class TargetResult:
    task_id: str
    summary: str


class JobTargets(Protocol):
    """One method per job type; each raises a `ZqError` refusal (never retried) or any other error (retried)."""

    async def data_sync(self, call: TargetCall) -> TargetResult: ...

    async def data_validation(self, call: TargetCall) -> TargetResult: ...

    async def factor_calculation(self, call: TargetCall) -> TargetResult: ...

    async def backtest_run(self, call: TargetCall) -> TargetResult: ...


class TradeCalendars(Protocol):
    async def calendar_around(self, day: dt.date) -> TradeCalendar:
        """The synced calendar near `day` (the days it lacks are outside its range)."""
        ...


class ConfigChecker(Protocol):
    def check(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The config, normalised, if every target request holds its service's bounds; INVALID_ARGUMENT naming
        the field (`config.…`) otherwise."""
        ...

