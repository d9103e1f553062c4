"""A background loop whose cancel is swallowed inside a library call still ends when stopped; sibling calls stand
or fall together."""

import asyncio

import pytest

from zquant_kit.tasks import all_or_cancel, raise_if_cancelled

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


async def test_all_or_cancel_returns_results_in_order():
    async def after(seconds: float, value: int) -> int:
        await asyncio.sleep(seconds)
        return value

    assert await all_or_cancel([after(0.02, 1), after(0.0, 2), after(0.01, 3)]) == [1, 2, 3]


async def test_all_or_cancel_raises_the_first_failure_as_itself_after_cancelling_the_others():
    ended: list[str] = []

    async def fails() -> int:
        await asyncio.sleep(0)
        raise PermissionError("refused")

    async def waits() -> int:
        try:
            await asyncio.Event().wait()
        finally:
            ended.append("waits")
        return 0

    with pytest.raises(PermissionError, match="refused"):
        await all_or_cancel([waits(), fails()])
    assert ended == ["waits"]  # cancelled and awaited before the failure is raised
