"""Jobs a stopped service left queued or running are queued again at start-up, once each, and run with their
owner's token as identity issues it now (no credential is kept with a job); final ones stay as they are."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from services.factor.tests.unit.calculation.fakes import CalculationTransaction
from services.factor.tests.unit.calculation.world import BANKS, BOB, CalcWorld, _day
from zquant_factor.application.calculation_jobs import JOB_KIND, CalculationRequest
from zquant_factor.application.calculation_ports import CalculationRecord, RunMode
from zquant_factor.application.calculation_recovery import CalculationRecovery
from zquant_kit.jobs import JobState
from zquant_kit.jobs.inprocess import InProcessJobQueue

pytestmark = pytest.mark.unit

MA = ("m-ma5", "ma", {"n": 5})


async def _left_by_a_stopped_service(world: CalcWorld, factor_id: str) -> list[CalculationRecord]:
    """Two jobs submitted to a queue nobody served (the process stopped), one marked running; two final ones."""
    jobs = world.jobs
    request = CalculationRequest((factor_id,), BANKS, _day("20230103"), _day("20230630"), RunMode.FULL)
    submitted = [await jobs.submit(BOB, request) for _ in range(4)]
    records = world.records.store.calculations
    records[submitted[1].id].state, records[submitted[1].id].percent = JobState.RUNNING, 40.0
    records[submitted[2].id].state = JobState.SUCCEEDED
    records[submitted[3].id].state = JobState.CANCELLED
    return [dataclasses.replace(records[record.id]) for record in submitted]


async def test_unfinished_jobs_are_queued_again_once_and_run_with_the_owners_current_token() -> None:
    world = CalcWorld()
    factor_id = world.add_factor("ma", MA)
    left = await _left_by_a_stopped_service(world, factor_id)
    world.queue = InProcessJobQueue()  # the next process: its queue knows none of them
    world.owner_tokens.asked.clear()
    recovery = CalculationRecovery(lambda: CalculationTransaction(world.records), world.queue)
    updates = await world.queue.watch(JOB_KIND)
    unfinished = sorted([left[0].id, left[1].id])  # submitted at one clock tick: oldest first, then by id
    assert await recovery.resubmit_unfinished() == unfinished
    assert await recovery.resubmit_unfinished() == unfinished  # the same ids: queued once

    server = asyncio.create_task(world.queue.serve(JOB_KIND, world.jobs.handle))
    try:
        seen = await updates.until_final(unfinished, timeout=20.0)
    finally:
        server.cancel()
        await updates.close()
    for job_id in unfinished:
        assert [u.state for u in seen[job_id]].count(JobState.QUEUED) == 1
        assert seen[job_id][-1].state is JobState.SUCCEEDED
        record = world.records.store.calculations[job_id]
        assert record.state is JobState.SUCCEEDED and record.values_written > 0
    assert set(world.owner_tokens.asked) == {("bob-id", ("data:read",))}
    assert [world.records.store.calculations[r.id].state for r in left[2:]] == [
        JobState.SUCCEEDED,
        JobState.CANCELLED,
    ]
