"""Worker functions of the shared-arrays tests (module-level, so they pickle to a worker by this module's name), and
every outcome of a worker call in one run, for a fresh interpreter whose resource tracker must report no leak."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from zquant_kit.shared_arrays import call_shared, published
from zquant_kit.workers import WorkerProcesses

CALLS_MODULE = "libs.kit.tests.unit.shared_array_calls"


def twice(arrays: Mapping[str, np.ndarray], label: str) -> tuple[dict[str, np.ndarray], str]:
    """Each array stacked on itself (any dtype, any shape), and a label of what it read."""
    return {
        f"{name}2": np.stack([array, array]) for name, array in arrays.items()
    }, f"{label}: {sorted(arrays)}"


def failing(arrays: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], None]:
    raise ValueError(f"no good: {sorted(arrays)}")


def slow(arrays: Mapping[str, np.ndarray], seconds: float) -> tuple[dict[str, np.ndarray], None]:
    time.sleep(seconds)
    return dict(arrays), None


def dying(arrays: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], None]:
    os._exit(3)


def workers() -> WorkerProcesses:
    return WorkerProcesses(1, [CALLS_MODULE], niceness=0)


async def every_outcome() -> None:
    """A call that returns, one that raises, one cancelled while its worker runs on, one whose worker dies."""
    inputs = {"close": np.arange(12.0).reshape(3, 4)}
    pool = workers()
    try:
        with published(inputs) as shared:
            outputs, _ = await call_shared(pool.run, twice, shared, "x")
            assert outputs["close2"][1, 2, 3] == 11.0
            with contextlib.suppress(ValueError):
                await call_shared(pool.run, failing, shared)
            call = asyncio.ensure_future(call_shared(pool.run, slow, shared, 0.5))
            await asyncio.sleep(0.1)
            call.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await call
            await call_shared(pool.run, twice, shared, "after")  # runs once the cancelled call has ended
    finally:
        await pool.close()
    pool = workers()
    try:
        with published(inputs) as shared, contextlib.suppress(BrokenProcessPool):
            await call_shared(pool.run, dying, shared)
    finally:
        await pool.close()
