"""Strategy CRUD with per-owner names and isolation, ValidateStrategy, task listing and deletion, a deleted
user's rows, and the data version the sync events advance."""

from __future__ import annotations

import pytest

from services.backtest.tests.fakes.executors import DeterministicExecutor
from services.backtest.tests.fakes.ports import BUY_AND_HOLD_SCHEMA
from services.backtest.tests.unit.service.world import (
    ADMIN,
    ALICE,
    BOB,
    CODE,
    VIEWER,
    World,
    request,
    running,
)
from zquant.identity.v1 import events_pb2 as identity_events
from zquant.marketdata.v1 import events_pb2 as market_events
from zquant_backtest.application.data_versions import SYNC_COMPLETED, DataVersionTracker
from zquant_backtest.application.strategies import StrategyChanges, StrategyDraft
from zquant_backtest.application.user_cleanup import USER_DELETED
from zquant_backtest.domain.tasks import TaskState
from zquant_kit.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from zquant_kit.events.model import Event

pytestmark = pytest.mark.unit


def _draft(name: str = "ma", code: str = CODE) -> StrategyDraft:
    return StrategyDraft(name, "dual MA", "trend", code, BUY_AND_HOLD_SCHEMA)


async def test_names_are_unique_per_owner_and_rows_are_the_owners():
    world = World(DeterministicExecutor())
    mine = await world.strategies.create(ALICE, _draft())
    with pytest.raises(AlreadyExists):
        await world.strategies.create(ALICE, _draft())
    theirs = await world.strategies.create(BOB, _draft())
    for call in (world.strategies.get, world.strategies.delete):
        with pytest.raises(NotFound):
            await call(BOB, mine.id)
    with pytest.raises(NotFound):
        await world.strategies.update(BOB, mine.id, StrategyChanges(description="x"))
    page, _ = await world.strategies.list(ALICE, 10, "")
    assert [s.id for s in page.items] == [mine.id]
    everyone, _ = await world.strategies.list(ADMIN, 10, "")
    assert {s.id for s in everyone.items} == {mine.id, theirs.id}
    with pytest.raises(PermissionDenied):
        await world.strategies.create(VIEWER, _draft("v"))


async def test_stored_code_and_schema_are_checked_and_updates_keep_names_unique():
    world = World(DeterministicExecutor())
    with pytest.raises(InvalidArgument) as caught:
        await world.strategies.create(ALICE, _draft(code="import socket\n" + CODE))
    assert caught.value.field == "code" and "line 1" in caught.value.description
    first = await world.strategies.create(ALICE, _draft("a"))
    await world.strategies.create(ALICE, _draft("b"))
    with pytest.raises(AlreadyExists):
        await world.strategies.update(ALICE, first.id, StrategyChanges(name="b"))
    updated = await world.strategies.update(
        ALICE, first.id, StrategyChanges(description="new", code=CODE + "\n")
    )
    assert updated.description == "new" and updated.code_hash != first.code_hash


def test_validate_reports_line_column_and_fields():
    world = World(DeterministicExecutor())
    problems = world.strategies.validate(
        VIEWER, "import os\n" + CODE, {"weight": 3.0, "x": 1}, BUY_AND_HOLD_SCHEMA
    )
    assert any(p.line == 1 and not p.field for p in problems)
    assert {p.field for p in problems if p.field} == {"params.weight", "params.x"}
    assert not world.strategies.validate(VIEWER, CODE, {"weight": 0.5}, BUY_AND_HOLD_SCHEMA)


async def test_listing_filters_by_state_pages_and_admins_see_all():
    async with running() as world:
        tasks = [await world.submission.submit(ALICE, request()) for _ in range(3)]
        bobs = await world.submission.submit(BOB, request())
        for task in [*tasks, bobs]:
            await world.until_final(task.id)
        page, token = await world.queries.list(ALICE, 2, "", None)
        rest, end = await world.queries.list(ALICE, 2, token, TaskState.SUCCEEDED)
        assert len(page.items) == 2 and len(rest.items) == 1 and not end
        assert {t.id for t in [*page.items, *rest.items]} == {t.id for t in tasks}
        assert not (await world.queries.list(ALICE, 10, "", TaskState.FAILED))[0].items
        everyone, _ = await world.queries.list(ADMIN, 10, "", None)
        assert len(everyone.items) == 4
        with pytest.raises(NotFound):
            await world.queries.get(BOB, tasks[0].id)
        await world.results.report(ALICE, tasks[0].id)
        await world.queries.delete(ALICE, tasks[0].id)
        store = world.database.store
        assert (
            tasks[0].id not in store.tasks
            and tasks[0].id not in store.results
            and tasks[0].id not in store.reports
        )


async def test_a_deleted_users_rows_go_once_and_running_tasks_are_cancelled():
    async with running() as world:
        await world.strategies.create(ALICE, _draft())
        done = await world.submission.submit(ALICE, request())
        await world.until_final(done.id)
        await world.results.report(ALICE, done.id)
        bobs = await world.submission.submit(BOB, request())
        event = Event.create(USER_DELETED, identity_events.UserDeletedEvent(user_id=ALICE.user_id))
        await world.cleanup.on_user_deleted(event)
        await world.cleanup.on_user_deleted(event)
        store = world.database.store
        assert not [s for s in store.strategies.values() if s.owner_id == ALICE.user_id]
        assert list(store.tasks) == [bobs.id]
        assert not store.results.keys() - {bobs.id} and not store.reports


async def test_each_sync_advances_the_data_version_once():
    world = World(DeterministicExecutor())
    tracker = DataVersionTracker(world.uow, world.clock)
    assert await tracker.current() == "0"
    event = Event.create(SYNC_COMPLETED, market_events.SyncCompletedEvent(run_id="r1", datasets=["daily"]))
    await tracker.on_sync_completed(event)
    await tracker.on_sync_completed(event)
    empty = Event.create(SYNC_COMPLETED, market_events.SyncCompletedEvent(run_id="r2"))
    await tracker.on_sync_completed(empty)
    assert await tracker.current() == "1-r1"
    task = await world.submission.submit(ALICE, request())
    assert task.data_version == "1-r1"
