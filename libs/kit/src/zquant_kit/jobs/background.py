"""A service's job queue running with the service: the queue starts with it, then the loops the service runs
over it (workers, followers); on stop those loops are cancelled in reverse first, then the queue closes, so no
handler runs on a closed queue."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from zquant_kit.infrastructure import Infrastructure
from zquant_kit.jobs.port import JobQueue
from zquant_kit.tasks import cancel_and_wait


class QueueLoops:
    """The named background tasks a service runs over its started queue."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, loop: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(loop, name=name))

    async def stop(self) -> None:
        for task in reversed(self._tasks):
            await cancel_and_wait(task)
        self._tasks.clear()


def run_with_service(
    infra: Infrastructure, queue: JobQueue, started: Callable[[QueueLoops], Awaitable[None]]
) -> None:
    """At the service's start: the queue starts, then `started` (which starts its loops on the `QueueLoops`)."""
    loops = QueueLoops()

    async def start() -> None:
        await queue.start()
        await started(loops)

    async def stop() -> None:
        await loops.stop()
        await queue.close()

    infra.on_start(start)
    infra.on_stop(stop)
