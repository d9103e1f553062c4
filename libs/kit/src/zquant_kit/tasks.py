"""Background loops that end when they are cancelled, even when a library swallowed the cancel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any


def raise_if_cancelled() -> None:
    """Call once per loop turn: a cancel that landed inside a driver call (SQLAlchemy invalidating a SQLite
    connection, say) can be swallowed there; the task still counts it as requested (`Task.cancelling()`),
    so the loop ends here instead of running on, and `stop()` awaiting it never hangs."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


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
