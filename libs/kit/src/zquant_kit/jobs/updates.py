"""The stream of job updates a submitter reads: an async iterator it closes when done."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from zquant_kit.jobs.model import JobUpdate


class JobUpdates:
    """`async for update in updates:` in the order they were published; ends once `close()` is called."""

    def __init__(self, on_close: Callable[[], Awaitable[None]]) -> None:
        self._queue: asyncio.Queue[JobUpdate | None] = asyncio.Queue()
        self._on_close = on_close
        self._closed = False

    def push(self, update: JobUpdate) -> None:
        if not self._closed:
            self._queue.put_nowait(update)

    def __aiter__(self) -> JobUpdates:
        return self

    async def __anext__(self) -> JobUpdate:
        update = await self._queue.get()
        if update is None:
            raise StopAsyncIteration
        return update

    async def next(self, timeout: float) -> JobUpdate:
        """The next update, or TimeoutError after `timeout` s."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    async def until_final(self, job_ids: Iterable[str], timeout: float) -> dict[str, list[JobUpdate]]:
        """Reads until each of `job_ids` reached a final state; returns their updates in order, by job.
        For a submitter waiting on its jobs (a CLI, a test); updates of other jobs are read and dropped."""
        waiting = set(job_ids)
        seen: dict[str, list[JobUpdate]] = {job_id: [] for job_id in waiting}
        async with asyncio.timeout(timeout):
            while waiting:
                update = await self.__anext__()
                if update.job_id in seen:
                    seen[update.job_id].append(update)
                    if update.state.final:
                        waiting.discard(update.job_id)
        return seen

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)
            await self._on_close()
