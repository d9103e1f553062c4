"""A background loop whose cancel is swallowed inside a library call still ends when stopped."""

import asyncio

import pytest

from zquant_kit.tasks import raise_if_cancelled

pytestmark = pytest.mark.unit


async def _swallowing_call() -> None:
    """What a driver call may do with a cancel landing inside it (SQLAlchemy invalidating a connection)."""
    try:
        await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        pass


async def test_a_swallowed_cancel_still_ends_the_loop():
    turns = 0

    async def loop() -> None:
        nonlocal turns
        while True:
            turns += 1
            await _swallowing_call()
            raise_if_cancelled()
            await asyncio.sleep(0)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
    assert turns == 1


async def test_an_uncancelled_task_runs_on():
    raise_if_cancelled()  # no cancel requested: nothing happens
