"""The `sync_logs` row of each dataset step of a run: opened when the step starts, closed with its
result (succeeded, skipped, failed, cancelled) whatever way the step ends."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable

from zquant_kit.errors import ZqError
from zquant_marketdata.application.sync_ports import Clock, SyncLogWriter
from zquant_marketdata.application.sync_runs import RunCancelled, RunContext
from zquant_marketdata.domain.errors import SourceAuthError, SourceError
from zquant_marketdata.domain.sync import OPTIONAL_DATASETS, LogResult, SyncLogEntry


class RunLogger:
    def __init__(self, repo: SyncLogWriter, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    def entry(
        self, ctx: RunContext, dataset: str, api_name: str, start: dt.date | None, end: dt.date | None
    ) -> SyncLogEntry:
        return SyncLogEntry(
            id=str(uuid.uuid4()),
            run_id=ctx.handle.run.id,
            dataset=dataset,
            api_name=api_name,
            start=start,
            end=end,
            started_at=self._clock.now(),
        )

    async def finish(self, entry: SyncLogEntry, result: LogResult, error: BaseException | str | None = None) -> None:
        entry.result = result
        if isinstance(error, BaseException):
            entry.error = client_safe_error(error, entry.run_id)
        elif error is not None:
            entry.error = error
        entry.ended_at = self._clock.now()
        await asyncio.shield(self._repo.add_log(entry))

    async def logged(self, entry: SyncLogEntry, body: Callable[[], Awaitable[None]]) -> None:
        try:
            await body()
        except RunCancelled:
            await self.finish(entry, LogResult.CANCELLED, "cancelled")
            raise
        except asyncio.CancelledError:
            await self.finish(entry, LogResult.CANCELLED, "stopped with the service")
            raise
        except Exception as exc:
            await self.finish(entry, LogResult.FAILED, exc)
            raise
        await self.finish(entry, entry.result, entry.error)


def client_safe_error(error: BaseException, run_id: str) -> str:
    """What clients may read about a failure: source and domain messages as they are; anything else could
    carry SQL or internals, so it is logged in full and reported by reference."""
    if isinstance(error, (SourceError, ZqError)):
        return str(error) or type(error).__name__
    return f"internal error (see the marketdata log for run {run_id})"


def skippable(dataset: str, error: SourceError) -> bool:
    """An optional dataset the source lacks (no such API, no permission) is skipped, not fatal."""
    return dataset in OPTIONAL_DATASETS and not error.retryable and not isinstance(error, SourceAuthError)
