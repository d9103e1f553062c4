"""A calculation job reads market data with its owner's *current* rights: no credential rides the queue, the
worker asks identity for a short-lived `data:read` token of the owner, refreshes it on long jobs, and fails the
job with identity's reason when the owner lost the right."""

from __future__ import annotations

import asyncio

import pytest

from services.factor.tests.unit.calculation.fakes import FakeOwnerTokens
from services.factor.tests.unit.calculation.world import BANKS, BOB, CalcWorld, _day
from services.factor.tests.unit.definitions.conftest import NOW
from zquant.factor.v1 import calculation_pb2
from zquant_factor.application.calculation_credentials import (
    DATA_READ,
    REFRESH_AFTER,
    SYSTEM_OWNER,
    OwnerCredentials,
)
from zquant_factor.application.calculation_jobs import JOB_KIND, CalculationRequest
from zquant_factor.application.calculation_ports import RunMode
from zquant_kit.jobs import JobState
from zquant_kit.testing import eventually
from zquant_kit.testing.clock import FakeClock

pytestmark = pytest.mark.unit

MA = ("m-ma5", "ma", {"n": 5})


async def test_the_queued_payload_holds_only_the_job_id_and_the_run_asks_for_the_owners_token() -> None:
    world = CalcWorld()
    factor_id = world.add_factor("ma", MA)
    submitted = world.record_submits()
    record = await world.calculate([factor_id], "20230103", "20230331")
    payloads = [payload for _, payload in submitted]
    assert record.state is JobState.SUCCEEDED and record.values_written > 0
    assert [calculation_pb2.CalculationJobPayload.FromString(p) for p in payloads] == [
        calculation_pb2.CalculationJobPayload(job_id=record.id)
    ]
    assert b"token" not in payloads[0]
    assert world.owner_tokens.asked and set(world.owner_tokens.asked) == {(BOB.user_id, (DATA_READ,))}


async def test_an_owner_who_lost_data_read_fails_the_job_with_identitys_reason_and_writes_nothing() -> None:
    world = CalcWorld(owner_tokens=FakeOwnerTokens(granted={}))
    factor_id = world.add_factor("ma", MA)
    record = await world.calculate([factor_id], "20230103", "20230331")
    assert record.state is JobState.FAILED
    assert "data:read" in record.error and record.values_written == 0
    assert world.market.reads == [] and world.values.writes == 0


async def test_a_long_job_asks_again_once_the_token_is_old_and_a_system_job_never_asks() -> None:
    tokens, clock = FakeOwnerTokens(), FakeClock(NOW)
    owner = OwnerCredentials(BOB.user_id, tokens, clock)
    assert (await owner.current()).bearer == "token"
    clock.advance(seconds=REFRESH_AFTER.total_seconds() - 1)
    await owner.current()
    assert len(tokens.asked) == 1
    clock.advance(seconds=1)
    await owner.current()
    assert len(tokens.asked) == 2

    system = OwnerCredentials(SYSTEM_OWNER, tokens, clock)
    assert (await system.current()).bearer == ""
    assert len(tokens.asked) == 2


async def test_a_system_job_reads_with_the_service_credential() -> None:
    world = CalcWorld()
    world.market.bearer = ""
    factor_id = world.add_factor("ma", MA)
    request = CalculationRequest((factor_id,), BANKS, _day("20230103"), _day("20230331"), RunMode.FULL)
    jobs = world.jobs
    server = asyncio.create_task(world.queue.serve(JOB_KIND, jobs.handle))
    try:
        record = await jobs.submit_for_system(request)
        final = await eventually(lambda: _record(world, record.id), lambda found: found.state.final, 20.0)
    finally:
        server.cancel()
    assert record.owner_id == SYSTEM_OWNER
    assert final.state is JobState.SUCCEEDED and final.values_written > 0
    assert world.owner_tokens.asked == []


async def _record(world: CalcWorld, job_id: str):
    return world.records.store.calculations[job_id]
