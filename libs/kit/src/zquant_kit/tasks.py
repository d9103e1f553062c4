"""Background loops that end when they are cancelled, even when a library swallowed the cancel; and sibling
calls that stand or fall together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def raise_if_cancelled() -> None:
    """Call once per loop turn: a cancel that landed inside a driver call (SQLAlchemy invalidating a SQLite
    connection, say) can be swallowed there; the task still counts it as requested (`Task.cancelling()`),
    so the loop ends here instead of running on, and `stop()` awaiting it never hangs."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def all_or_cancel(calls: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """The calls' results in order, run at once; the first to fail cancels the others, is awaited with them and
    raised as itself. `asyncio.gather` would leave the others running (a transaction committing, a worker's
    result never retrieved) and `TaskGroup` raises an `ExceptionGroup`, which hides what failed from callers that
    tell failures apart (a job's final failure from one worth retrying)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Stops a background loop and waits until it has really ended (its own cancel is not an error)."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


class BackgroundLoop:
    """One named background task: `start()` runs `loop()` once (again only after `stop()`), `stop()` cancels it
    and waits until it has ended."""

    def __init__(self, loop: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        self._loop = loop
        self._name = name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
