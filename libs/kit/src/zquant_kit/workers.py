"""Worker processes for CPU-bound Python work (row decoding) that would hold the GIL.

A thread does not help there: pure-Python loops keep the GIL, so the event loop (and every
unrelated call on it) waits behind them. A process does not share the GIL. The pool starts on
first use, through a fork server that preloads only the modules named here, so workers start
in milliseconds and never re-run the parent's `__main__`. Workers run at a lower CPU priority
(`nice`), so on a busy machine interactive calls in the parent come before batch decoding. An optional
`warm_up` (a module-level function of no arguments) runs once in each worker as it starts, so one-time costs
(loading compiled kernels) are paid at start, not by the first call that needs them. Arguments and results
are pickled through the pool's pipe; large numpy arrays go through `zquant_kit.shared_arrays` instead.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

WORKER_NICENESS = 10


def _start_worker(niceness: int, warm_up: Callable[[], None] | None) -> None:
    os.nice(niceness)
    if warm_up is not None:
        warm_up()


class WorkerProcesses:
    def __init__(
        self,
        size: int,
        preload: Sequence[str],
        niceness: int = WORKER_NICENESS,
        warm_up: Callable[[], None] | None = None,
    ) -> None:
        self._size = max(1, size)
        self._preload = list(preload)
        self._niceness = niceness
        self._warm_up = warm_up
        self._pool: ProcessPoolExecutor | None = None

    @property
    def size(self) -> int:
        """How many calls run at once (more wait in the pool's queue)."""
        return self._size

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in a worker; both must pickle (a module-level function, plain data)."""
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(self._preload)
            self._pool = ProcessPoolExecutor(
                self._size,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self._niceness, self._warm_up),
            )
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, functools.partial(function, *args)
        )

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
