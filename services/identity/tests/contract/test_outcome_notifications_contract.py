"""Backtest and scheduler outcomes reach the owner's inbox over the in-process bus: once per event, never for
someone else, and an unknown owner is skipped without blocking the consumer."""

from __future__ import annotations

import asyncio

import pytest

from zquant.backtest.v1 import events_pb2 as backtest_events
from zquant.identity.v1 import notification_pb2
from zquant.scheduler.v1 import events_pb2 as scheduler_events
from zquant_kit.events.model import Event
from zquant_kit.testing import eventually

pytestmark = pytest.mark.contract


async def _inbox(identity, metadata) -> list[notification_pb2.Notification]:
    reply = await identity.notifications.ListNotifications(
        notification_pb2.ListNotificationsRequest(page_size=50), metadata=metadata
    )
    return list(reply.notifications)


async def test_outcomes_become_the_owners_notifications_once(identity, make_user):
    owner, owner_metadata = await make_user("owner")
    _, other_metadata = await make_user("other")
    bus = identity.app.infra.bus
    completed = Event.create(
        "backtest.completed.v1",
        backtest_events.BacktestCompletedEvent(
            task_id="t1",
            owner_id=owner.id,
            strategy_name="dual MA",
            total_return=0.1234,
            sharpe=1.5,
            max_drawdown=-0.08,
        ),
    )
    failed = Event.create(
        "backtest.failed.v1",
        backtest_events.BacktestFailedEvent(
            task_id="t2", owner_id=owner.id, reason="memory limit", attempts=2
        ),
    )
    run_failed = Event.create(
        "scheduler.run.failed.v1",
        scheduler_events.RunEndedEvent(
            run_id="r1",
            job_name="nightly sync",
            owner_id=owner.id,
            status="failed",
            reason="marketdata down",
            attempts=3,
        ),
    )
    skipped = Event.create(
        "scheduler.run.skipped.v1",
        scheduler_events.RunEndedEvent(
            run_id="r2",
            job_name="nightly sync",
            owner_id=owner.id,
            status="skipped",
            reason="20270101 not in calendar",
        ),
    )
    stranger = Event.create(
        "backtest.completed.v1", backtest_events.BacktestCompletedEvent(task_id="t3", owner_id="no-such-user")
    )
    for event in (stranger, completed, failed, run_failed, skipped, completed, run_failed):
        await bus.publish(event)

    async def four() -> bool:
        return len(await _inbox(identity, owner_metadata)) >= 4

    assert await eventually(four, timeout=10.0)
    await asyncio.sleep(0.3)  # the replays had their chance
    inbox = {n.title: n.body for n in await _inbox(identity, owner_metadata)}
    assert inbox == {
        "Backtest finished: dual MA": "Task t1 succeeded: total return +12.34%, annual +0.00%, Sharpe 1.50, "
        "max drawdown -8.00%.",
        "Backtest failed: inline strategy": "Task t2 failed after 2 attempt(s): memory limit",
        "Scheduled run failed: nightly sync": "Run r1 scheduled for an unknown time failed after 3 attempt(s): "
        "marketdata down",
        "Scheduled run skipped: nightly sync": "Run r2 scheduled for an unknown time skipped: 20270101 not in calendar",
    }
    assert await _inbox(identity, other_metadata) == []
