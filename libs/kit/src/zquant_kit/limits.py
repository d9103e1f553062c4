"""Per-process bounds on heavy work: a FIFO limiter on concurrent heavy reads with a bounded queue.

A caller past the bound gets RESOURCE_EXHAUSTED with a retry hint (google.rpc.RetryInfo) instead
of piling up memory: each heavy read (a whole-market panel, a big bar range) holds its decoded
arrays until its response is sent, so the bound on them is a bound on the process's memory.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

from zquant_kit.errors import ResourceExhausted
from zquant_kit.settings import Settings

RETRY_AFTER_SECONDS = 2.0
DEFAULT_QUEUED = 64
DEFAULT_WAIT_SECONDS = 60.0


def default_concurrency() -> int:
    """Two heavy reads at once, or one per core on a bigger machine."""
    return max(2, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class HeavyReadBounds:
    concurrent: int
    queued: int
    wait_seconds: float

    @staticmethod
    def from_settings(settings: Settings) -> HeavyReadBounds:
        return HeavyReadBounds(
            concurrent=max(1, int(settings.get("ZQUANT_HEAVY_READS") or default_concurrency())),
            queued=max(0, int(settings.get("ZQUANT_HEAVY_READ_QUEUE") or DEFAULT_QUEUED)),
            wait_seconds=float(settings.get("ZQUANT_HEAVY_READ_WAIT_SECONDS") or DEFAULT_WAIT_SECONDS),
        )

    @staticmethod
    def defaults() -> HeavyReadBounds:
        return HeavyReadBounds(default_concurrency(), DEFAULT_QUEUED, DEFAULT_WAIT_SECONDS)


class HeavyReadLimiter:
    """At most `concurrent` holders; up to `queued` more wait, first come first served, for at most
    `wait_seconds`; anyone else is refused at once."""

    def __init__(self, bounds: HeavyReadBounds) -> None:
        self.bounds = bounds
        self._active = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def active(self) -> int:
        return self._active

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    def _refuse(self, what: str, why: str) -> ResourceExhausted:
        return ResourceExhausted(
            f"{what}: {why}; retry later", reason="HEAVY_READS_EXHAUSTED", retry_after=RETRY_AFTER_SECONDS
        )

    async def _acquire(self, what: str) -> None:
        if self._active < self.bounds.concurrent and not self.waiting:
            self._active += 1
            return
        if self.waiting >= self.bounds.queued:
            raise self._refuse(what, f"{self._active} heavy reads running and {self.waiting} waiting")
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, self.bounds.wait_seconds)
        except TimeoutError:
            raise self._refuse(what, f"no heavy-read slot within {self.bounds.wait_seconds:g} s") from None
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over just as the caller went away
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to the next waiter
                return
        self._active -= 1

    @contextlib.asynccontextmanager
    async def slot(self, what: str) -> AsyncIterator[None]:
        await self._acquire(what)
        try:
            yield
        finally:
            self._release()


_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, HeavyReadLimiter] = (
    weakref.WeakKeyDictionary()
)


def process_limiter(bounds: HeavyReadBounds) -> HeavyReadLimiter:
    """The limiter every service of this process (one event loop) shares; the first caller's
    bounds size it."""
    loop = asyncio.get_running_loop()
    limiter = _per_loop.get(loop)
    if limiter is None:
        limiter = _per_loop[loop] = HeavyReadLimiter(bounds)
    return limiter
