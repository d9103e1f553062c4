"""The SQLAlchemy stores on PostgreSQL and SQLite through the use cases: strategies, tasks (states, pages,
idempotency keys), results and reports, the data version, events in the outbox, and a deleted user's rows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from services.backtest.tests.unit.service.world import ADMIN, ALICE, BOB, CODE, request
from zquant.identity.v1 import events_pb2 as identity_events
from zquant.marketdata.v1 import events_pb2 as market_events
from zquant_backtest.adapters.sqlalchemy import tables
from zquant_backtest.application.data_versions import SYNC_COMPLETED
from zquant_backtest.application.strategies import StrategyChanges, StrategyDraft
from zquant_backtest.application.submission import JOB_KIND, payload_of
from zquant_backtest.application.user_cleanup import USER_DELETED, UserCleanup
from zquant_backtest.domain.tasks import TaskState
from zquant_kit.errors import AlreadyExists
from zquant_kit.events.model import Event
from zquant_kit.jobs import Job
from zquant_kit.testing import walk_pages

pytestmark = pytest.mark.integration


class _Silent:
    async def report(self, percent: float, message: str = "") -> None:
        return None


async def _run(app, task_id: str) -> None:
    await app.tasks.worker.handle(Job(task_id, JOB_KIND, payload_of(task_id), 1, 3), _Silent())


async def _count(app, table) -> int:
    async with app.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def test_strategies_round_trip_with_unique_names_per_owner(app):
    uses = app.strategies
    draft = StrategyDraft("ma", "d", "trend", CODE, {"n": {"type": "int", "default": 5}})
    created = await uses.create(ALICE, draft)
    with pytest.raises(AlreadyExists):
        await uses.create(ALICE, draft)
    await uses.create(BOB, draft)
    updated = await uses.update(ALICE, created.id, StrategyChanges(name="ma2", description="new"))
    read = await uses.get(ALICE, created.id)
    assert (read.name, read.description, read.params_schema) == ("ma2", "new", draft.params_schema)
    assert read.code_hash == updated.code_hash
    for _ in range(3):
        await uses.create(ALICE, StrategyDraft(f"s{_}", "", "", CODE, {}))
    found, pages = await walk_pages(lambda token: _page(uses, token), lambda page: page.items, 2)
    assert sorted(s.name for s in found) == ["ma2", "s0", "s1", "s2"] and pages == 2


@dataclass
class _Page:
    items: list
    next_page_token: str


async def _page(uses, token: str) -> _Page:
    page, next_token = await uses.list(ALICE, 2, token)
    return _Page(list(page.items), next_token)


async def test_a_task_runs_stores_its_result_and_event_and_pages_by_state(app):
    tasks = app.tasks
    first = await tasks.submission.submit(ALICE, request(idempotency_key="k1"))
    assert (await tasks.submission.submit(ALICE, request(idempotency_key="k1"))).id == first.id
    second = await tasks.submission.submit(ALICE, request())
    await _run(app, first.id)
    done = await tasks.queries.get(ALICE, first.id)
    assert done.state is TaskState.SUCCEEDED and done.fingerprint and done.current_date is not None
    assert done.metrics["sharpe"] == done.metrics["sharpe"] and done.config == first.config
    record, result = await tasks.results.result(ALICE, first.id)
    assert result.fingerprint == record.fingerprint and result.fills.qty.tolist() == [100, -100]
    name, html = await tasks.results.report(ALICE, first.id)
    assert (await tasks.results.report(ALICE, first.id))[1] == html and name.endswith(".html")
    succeeded, _ = await tasks.queries.list(ALICE, 10, "", TaskState.SUCCEEDED)
    queued, _ = await tasks.queries.list(ALICE, 10, "", TaskState.QUEUED)
    assert [t.id for t in succeeded.items] == [first.id] and [t.id for t in queued.items] == [second.id]
    assert len((await tasks.queries.list(ADMIN, 10, "", None))[0].items) == 2
    async with app.sessions() as session:
        types = (await session.execute(select(tables.outbox.c.event_type))).scalars().all()
    assert list(types) == ["backtest.completed.v1"]


async def test_the_data_version_advances_and_a_deleted_users_rows_go(app):
    tasks = app.tasks
    sync = Event.create(SYNC_COMPLETED, market_events.SyncCompletedEvent(run_id="run7", datasets=["daily"]))
    await tasks.versions.on_sync_completed(sync)
    await tasks.versions.on_sync_completed(sync)
    assert await tasks.versions.current() == "1-run7"
    await app.strategies.create(ALICE, StrategyDraft("a", "", "", CODE, {}))
    mine = await tasks.submission.submit(ALICE, request())
    assert mine.data_version == "1-run7"
    await _run(app, mine.id)
    await tasks.results.report(ALICE, mine.id)
    bobs = await tasks.submission.submit(BOB, request())
    cleanup = UserCleanup(app.unit_of_work, tasks.queue)
    deleted = Event.create(USER_DELETED, identity_events.UserDeletedEvent(user_id=ALICE.user_id))
    await cleanup.on_user_deleted(deleted)
    await cleanup.on_user_deleted(deleted)
    for table in (tables.strategies, tables.results, tables.reports):
        assert await _count(app, table) == 0
    assert [t.id for t in (await tasks.queries.list(ADMIN, 10, "", None))[0].items] == [bobs.id]


async def test_racing_submits_with_one_idempotency_key_make_one_task(app):
    submit = app.tasks.submission.submit
    answers = await asyncio.gather(*(submit(ALICE, request(idempotency_key="race")) for _ in range(4)))
    assert len({task.id for task in answers}) == 1
    assert len((await app.tasks.queries.list(ALICE, 10, "", None))[0].items) == 1
