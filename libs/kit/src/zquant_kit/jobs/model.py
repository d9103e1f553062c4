"""What a job is, what it reports, and how a handler says "this will never work"."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Protocol

# Kinds and ids become NATS subject tokens, so they are limited to characters that are safe there.
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MAX_ATTEMPTS_LIMIT = 20


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True, slots=True)
class Job:
    """One delivery of a job to a handler. `attempt` counts from 1; `deadline` (UTC) is the submitter's
    limit for the whole job, after which the handler is cancelled and the job fails."""

    id: str
    kind: str
    payload: bytes
    attempt: int
    max_attempts: int
    deadline: dt.datetime | None = None

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


@dataclass(frozen=True, slots=True)
class JobUpdate:
    """A change the submitter may record: a state, and while running the handler's progress.
    Encoded as JSON on the wire (payloads stay opaque bytes and are never in an update)."""

    job_id: str
    kind: str
    state: JobState
    attempt: int = 0
    percent: float | None = None
    message: str = ""
    reason: str = ""

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> JobUpdate:
        fields = json.loads(data)
        return cls(
            job_id=str(fields["job_id"]),
            kind=str(fields["kind"]),
            state=JobState(fields["state"]),
            attempt=int(fields["attempt"]),
            percent=None if fields["percent"] is None else float(fields["percent"]),
            message=str(fields["message"]),
            reason=str(fields["reason"]),
        )


class JobFailed(Exception):
    """Raised by a handler for a job no retry can fix (bad input, missing data): failed at once, with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProgressReporter(Protocol):
    async def report(self, percent: float, message: str = "") -> None:
        """`percent` in [0, 100]; each call becomes a running update the submitter sees."""
        ...


JobHandler = Callable[[Job, ProgressReporter], Awaitable[None]]


def check_kind(kind: str) -> str:
    if not _KIND.match(kind):
        raise ValueError(f"job kind {kind!r} must match {_KIND.pattern}")
    return kind


def check_submission(job_id: str, max_attempts: int, deadline: dt.datetime | None) -> None:
    if not _JOB_ID.match(job_id):
        raise ValueError(f"job id {job_id!r} must match {_JOB_ID.pattern}")
    if not 1 <= max_attempts <= MAX_ATTEMPTS_LIMIT:
        raise ValueError(f"max_attempts must be in [1, {MAX_ATTEMPTS_LIMIT}], got {max_attempts}")
    if deadline is not None and deadline.tzinfo is None:
        raise ValueError("deadline must be timezone-aware")


def failure_reason(exc: BaseException) -> str:
    return exc.reason if isinstance(exc, JobFailed) else f"{type(exc).__name__}: {exc}"
