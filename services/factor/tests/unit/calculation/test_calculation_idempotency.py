"""Submitting with an idempotency key over fakes: a repeat returns the first job and queues nothing; keys are per
owner; deleting the owner's jobs frees the key."""

from __future__ import annotations

import pytest

from services.factor.tests.unit.calculation.world import BANKS, BOB, CalcWorld, _day
from zquant.identity.v1 import events_pb2
from zquant_factor.application.calculation_jobs import CalculationRequest
from zquant_factor.application.calculation_ports import RunMode
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal

pytestmark = pytest.mark.unit


def _request(factor_id: str, key: str) -> CalculationRequest:
    return CalculationRequest([factor_id], BANKS, _day("20230103"), _day("20230105"), RunMode.FULL, key)


async def test_a_repeated_key_returns_the_first_job_and_queues_nothing() -> None:
    world = CalcWorld()
    factor_id = world.add_factor("ma", ("m-ma5", "ma", {"n": 5}))
    jobs = world.jobs
    submitted = world.record_submits()
    first = await jobs.submit(BOB, _request(factor_id, "run-1"))
    again = await jobs.submit(BOB, _request(factor_id, "run-1"))
    other = await jobs.submit(BOB, _request(factor_id, "run-2"))
    unkeyed = [await jobs.submit(BOB, _request(factor_id, "")) for _ in range(2)]
    assert again.id == first.id and other.id != first.id and unkeyed[0].id != unkeyed[1].id
    assert [job_id for job_id, _ in submitted] == [first.id, other.id, unkeyed[0].id, unkeyed[1].id]

    twin = Principal(
        "twin-id", "twin", "admin", frozenset({"factor:read", "factor:calculate", "factor:admin"})
    )
    assert (await jobs.submit(twin, _request(factor_id, "run-1"))).id != first.id

    gone = Event.create("identity.user.deleted.v1", events_pb2.UserDeletedEvent(user_id=BOB.user_id))
    await world.queries.on_user_deleted(gone)
    assert all(owner != BOB.user_id for owner, _ in world.records.store.keys)
    assert (await jobs.submit(BOB, _request(factor_id, "run-1"))).id != first.id
