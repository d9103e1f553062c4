"""Following one job from a streaming RPC (a watch, or a submit that streams progress).

The kind's updates are opened before the job is submitted or its record read, so no update falls between
the two, and closed when the stream ends however it ends (the job's end, an error, a client gone).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from zquant_kit.jobs import JobQueue, JobUpdate, JobUpdates


class JobWatch:
    """The updates of one kind of job, read one job at a time."""

    def __init__(self, updates: JobUpdates) -> None:
        self._updates = updates

    async def next_of(self, job_id: str, timeout: float) -> JobUpdate:
        """The next update of `job_id`; other jobs' are read and dropped. TimeoutError when no update at all
        came within `timeout` s of a read."""
        while True:
            update = await self._updates.next(timeout)
            if update.job_id == job_id:
                return update


@asynccontextmanager
async def watch_jobs(queue: JobQueue, kind: str) -> AsyncIterator[JobWatch]:
    """The updates of every job of `kind` from now on, closed on leaving the block."""
    updates = await queue.watch(kind)
    try:
        yield JobWatch(updates)
    finally:
        await updates.close()
