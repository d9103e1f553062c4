"""A run is one firing of a job (unique per job and scheduled time); its attempts are the calls to the target.

Status moves pending → running → succeeded | failed | cancelled, with running → pending between attempts
(waiting for a retry) and pending | running → skipped (closed trade day, misfire, or an upstream step failed).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from zquant_kit.errors import FailedPrecondition

MAX_BACKOFF_SECONDS = 3600.0


class RunStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED, RunStatus.CANCELLED})

_NEXT: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.PENDING: frozenset({RunStatus.RUNNING, RunStatus.SKIPPED, RunStatus.CANCELLED}),
    RunStatus.RUNNING: frozenset(
        {RunStatus.PENDING, RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED, RunStatus.CANCELLED}
    ),
}


def check_transition(current: RunStatus, target: RunStatus) -> RunStatus:
    if target not in _NEXT.get(current, frozenset()):
        raise FailedPrecondition(f"a {current.value} run cannot become {target.value}")
    return target


class RunTrigger(enum.StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    MISFIRE = "misfire"
    """The one late run of slots missed beyond the grace period (policy run_once_late)."""


@dataclass
class Run:
    id: str
    job_id: str
    owner_id: str
    job_name: str
    scheduled_time: dt.datetime
    trigger: RunTrigger
    status: RunStatus
    created_at: dt.datetime
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    target_task_id: str = ""
    result_summary: str = ""
    error: str = ""

    @property
    def duration_seconds(self) -> float:
        if self.started_at is None or self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class Attempt:
    """One call of one step's target (`step` is empty for a single-target job)."""

    run_id: str
    number: int
    step: str
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime
    target_task_id: str = ""
    result_summary: str = ""
    error: str = ""


def retry_delay(retry_interval_seconds: int, failed_attempts: int) -> float:
    """Exponential backoff from the job's retry interval: interval, 2×, 4×, … capped at an hour."""
    return min(retry_interval_seconds * 2.0 ** max(failed_attempts - 1, 0), MAX_BACKOFF_SECONDS)


def may_retry(max_retries: int, attempts_made: int) -> bool:
    """`max_retries` counts the calls after the first."""
    return attempts_made <= max_retries
