"""The CalculateFactors job through its use cases: validation, one model resolution for every run mode,
records, visibility, cancel, the event, and a deleted user's jobs."""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np
import pytest

from services.factor.tests.unit.calculation.world import BANKS, BOB, TOKEN, CalcWorld, _day
from services.factor.tests.unit.definitions.conftest import World
from zquant.factor.v1 import events_pb2
from zquant_factor.application.calculation_events import FACTOR_CALCULATED
from zquant_factor.application.calculation_jobs import CalculationRequest
from zquant_factor.application.calculation_ports import RunMode
from zquant_factor.domain.definitions.records import FactorConfig, ModelMapping
from zquant_kit.errors import InvalidArgument, NotFound, PermissionDenied
from zquant_kit.jobs import JobState
from zquant_kit.principal import Principal

pytestmark = pytest.mark.unit

ALICE = Principal("alice-id", "alice", "researcher", frozenset({"factor:read", "factor:calculate"}))
MA = [("m-ma5", "ma", {"n": 5}), ("m-ma10", "ma", {"n": 10})]


def _mapped_world() -> tuple[CalcWorld, str]:
    """ma5 is the default model; 601398.SH is mapped to ma10."""
    world = CalcWorld()
    factor_id = world.add_factor("ma", *MA)
    world.definitions.store.configs[factor_id] = FactorConfig(
        factor_id, True, (ModelMapping("m-ma10", ("601398.SH",)),)
    )
    return world, factor_id


async def test_submit_names_every_bad_field() -> None:
    world = CalcWorld()
    request = CalculationRequest(
        [""], ["600000", "601398.SH"], _day("20230105"), _day("20230101"), RunMode.FULL
    )
    with pytest.raises(InvalidArgument) as caught:
        await world.jobs.submit(BOB, request)
    assert [field for field, _ in caught.value.violations] == ["factor_ids[0]", "ts_codes[0]", "end_date"]
    assert world.records.store.calculations == {}


async def test_submit_needs_the_permission_and_a_visible_factor() -> None:
    world, factor_id = _mapped_world()
    request = CalculationRequest([factor_id], BANKS, _day("20230103"), _day("20230105"), RunMode.FULL)
    with pytest.raises(PermissionDenied):
        await world.jobs.submit(World.actor("carol"), request)
    with pytest.raises(NotFound):
        await world.jobs.submit(ALICE, request)  # bob's private factor


async def test_single_day_and_multi_day_runs_resolve_codes_the_same() -> None:
    multi, factor_id = _mapped_world()
    await multi.calculate([factor_id], "20230103", "20230331")
    _, dates, values = await multi.values.read(
        factor_id, "ma", list(BANKS), _day("20230101"), _day("20230331")
    )
    for index in (0, 20, dates.size - 1):
        single, _ = _mapped_world()
        day = dates[index].astype(dt.date).strftime("%Y%m%d")
        await single.calculate([factor_id], day, day)
        _, one_day, value = await single.values.read(factor_id, "ma", list(BANKS), _day(day), _day(day))
        assert one_day.tolist() == [dates[index]]
        np.testing.assert_allclose(value[0], values[index], rtol=0, atol=1e-12)
    closes = (
        await multi.market.panel(BANKS, _day("20221201"), _day("20230331"), ("close",), _hfq(), TOKEN)
    ).fields
    last = closes["close"][-10:]
    assert values[-1, 1] == pytest.approx(last[:, 1].mean(), abs=1e-9)  # mapped: ma10
    assert values[-1, 0] == pytest.approx(last[-5:, 0].mean(), abs=1e-9)  # default model: ma5


async def test_a_succeeded_job_records_its_outcome_and_emits_the_event() -> None:
    world, factor_id = _mapped_world()
    record = await world.calculate([factor_id], "20230103", "20230110")
    assert record.state is JobState.SUCCEEDED and record.percent == 100.0 and record.finished_at is not None
    assert record.values_written == 6 * 4
    (event,) = [e for e in world.records.published if e.type == FACTOR_CALCULATED]
    message = event.decode(events_pb2.FactorCalculatedEvent)
    assert list(message.factor_ids) == [factor_id] and message.values_written == 24 and message.mode == "full"


async def test_a_factor_with_an_unmapped_code_fails_the_job_with_the_reason() -> None:
    world = CalcWorld()
    factor_id = world.add_factor("nodefault")
    record = await world.calculate([factor_id], "20230103", "20230110")
    assert record.state is JobState.FAILED and "no mapping covers" in record.error


async def test_get_list_and_cancel_are_the_owners() -> None:
    world, factor_id = _mapped_world()
    done = await world.calculate([factor_id], "20230103", "20230110")
    assert (await world.queries.get(BOB, done.id)).state is JobState.SUCCEEDED
    with pytest.raises(NotFound):
        await world.queries.get(ALICE, done.id)
    writes = world.values.writes
    world.definitions.clock.advance(minutes=1)  # newest first
    queued = await world.jobs.submit(
        BOB, CalculationRequest([factor_id], BANKS, _day("20230103"), _day("20230110"), RunMode.FULL)
    )
    (page, token) = await world.queries.list(BOB, 1, "")
    assert [r.id for r in page.items] == [queued.id] and page.more and token
    assert (await world.queries.list(ALICE, 10, ""))[0].items == []
    cancelled = await world.queries.cancel(BOB, queued.id)
    assert cancelled.state is JobState.CANCELLED
    server = asyncio.create_task(world.queue.serve("factor_calculation", world.jobs.handle))
    await asyncio.sleep(0.05)
    server.cancel()
    assert world.records.store.calculations[queued.id].state is JobState.CANCELLED
    assert world.values.writes == writes  # the cancelled job never ran


async def test_a_deleted_users_jobs_go_once() -> None:
    world, factor_id = _mapped_world()
    await world.calculate([factor_id], "20230103", "20230110")
    event = World.user_deleted(BOB.user_id)
    await world.queries.on_user_deleted(event)
    assert world.records.store.calculations == {}
    await world.queries.on_user_deleted(event)
    commits = world.records.commits
    await world.queries.on_user_deleted(event)
    assert world.records.commits == commits


def _hfq():
    from zquant_factor.application.market_ports import Adjust

    return Adjust.HFQ
