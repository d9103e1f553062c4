"""A streaming RPC's job watch: one job's updates in order, others dropped, closed however the block ends."""

from __future__ import annotations

import pytest

from zquant_kit.grpc.job_watch import watch_jobs
from zquant_kit.jobs import JobState, JobUpdate, JobUpdates

pytestmark = pytest.mark.unit


class _Queue:
    """Only `watch`, which is all a job watch asks of the queue."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.closed = 0
        self.updates = JobUpdates(self._on_close)

    async def _on_close(self) -> None:
        self.closed += 1

    async def watch(self, kind: str) -> JobUpdates:
        self.kinds.append(kind)
        return self.updates


def _update(job_id: str, state: JobState, percent: float | None = None) -> JobUpdate:
    return JobUpdate(job_id=job_id, kind="calc", state=state, percent=percent)


async def test_a_watch_reads_one_jobs_updates_and_closes_at_the_end_of_the_block():
    queue = _Queue()
    async with watch_jobs(queue, "calc") as watch:
        for update in (
            _update("other", JobState.RUNNING),
            _update("j1", JobState.RUNNING, 0.5),
            _update("other", JobState.SUCCEEDED),
            _update("j1", JobState.SUCCEEDED),
        ):
            queue.updates.push(update)
        assert await watch.next_of("j1", 1.0) == _update("j1", JobState.RUNNING, 0.5)
        assert (await watch.next_of("j1", 1.0)).state is JobState.SUCCEEDED
        assert queue.closed == 0
    assert queue.kinds == ["calc"] and queue.closed == 1


async def test_a_watch_times_out_when_nothing_comes_and_still_closes():
    queue = _Queue()
    with pytest.raises(TimeoutError):
        async with watch_jobs(queue, "calc") as watch:
            queue.updates.push(_update("other", JobState.RUNNING))
            await watch.next_of("j1", 0.05)
    assert queue.closed == 1
