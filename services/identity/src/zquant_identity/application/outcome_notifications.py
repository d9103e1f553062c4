"""The owner's inbox hears how their backtests and scheduled runs ended (the backtest and scheduler events).

Each event type has its own durable consumer; each delivery claims (consumer, event id) in the same transaction
as the notification, whose id is the event id, so a redelivery adds nothing. An owner unknown here (deleted
meanwhile) is skipped with the claim committed, as `on_notification_requested` does.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2

from zquant.backtest.v1 import events_pb2 as backtest_events
from zquant.scheduler.v1 import events_pb2 as scheduler_events
from zquant_identity.application.ports import Clock, UnitOfWorkFactory
from zquant_identity.domain.model import Notification
from zquant_kit.events.model import Event, EventHandler
from zquant_kit.text import storable

BACKTEST_COMPLETED = "backtest.completed.v1"
BACKTEST_FAILED = "backtest.failed.v1"
RUN_FAILED = "scheduler.run.failed.v1"
RUN_SKIPPED = "scheduler.run.skipped.v1"
CONSUMERS = {
    BACKTEST_COMPLETED: "identity-notify-backtest-completed",
    BACKTEST_FAILED: "identity-notify-backtest-failed",
    RUN_FAILED: "identity-notify-run-failed",
    RUN_SKIPPED: "identity-notify-run-skipped",
}
"""Event type → the durable consumer that turns it into a notification."""


def _when(stamp: timestamp_pb2.Timestamp) -> str:
    return (
        stamp.ToDatetime(tzinfo=dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if stamp.seconds else "an unknown time"
    )


def _strategy(name: str) -> str:
    return name or "inline strategy"


def _percent(value: float) -> str:
    return f"{100.0 * value:+.2f}%"


def backtest_completed(message: backtest_events.BacktestCompletedEvent) -> tuple[str, str]:
    return (
        f"Backtest finished: {_strategy(message.strategy_name)}",
        f"Task {message.task_id} succeeded: total return {_percent(message.total_return)}, annual "
        f"{_percent(message.annual_return)}, Sharpe {message.sharpe:.2f}, max drawdown {_percent(message.max_drawdown)}.",
    )


def backtest_failed(message: backtest_events.BacktestFailedEvent) -> tuple[str, str]:
    return (
        f"Backtest failed: {_strategy(message.strategy_name)}",
        f"Task {message.task_id} failed after {message.attempts} attempt(s): {message.reason or 'no reason given'}",
    )


def run_ended(message: scheduler_events.RunEndedEvent) -> tuple[str, str]:
    what = "failed" if message.status == "failed" else "skipped"
    attempts = f" after {message.attempts} attempt(s)" if what == "failed" else ""
    return (
        f"Scheduled run {what}: {message.job_name or message.job_id}",
        f"Run {message.run_id} scheduled for {_when(message.scheduled_time)} {what}{attempts}: "
        f"{message.reason or 'no reason given'}",
    )


class OutcomeNotifications:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def on_backtest_completed(self, event: Event) -> None:
        message = event.decode(backtest_events.BacktestCompletedEvent)
        await self._deliver(
            CONSUMERS[BACKTEST_COMPLETED], event, message.owner_id, *backtest_completed(message)
        )

    async def on_backtest_failed(self, event: Event) -> None:
        message = event.decode(backtest_events.BacktestFailedEvent)
        await self._deliver(CONSUMERS[BACKTEST_FAILED], event, message.owner_id, *backtest_failed(message))

    async def on_run_failed(self, event: Event) -> None:
        message = event.decode(scheduler_events.RunEndedEvent)
        await self._deliver(CONSUMERS[RUN_FAILED], event, message.owner_id, *run_ended(message))

    async def on_run_skipped(self, event: Event) -> None:
        message = event.decode(scheduler_events.RunEndedEvent)
        await self._deliver(CONSUMERS[RUN_SKIPPED], event, message.owner_id, *run_ended(message))

    def handlers(self) -> dict[str, EventHandler]:
        """Event type → handler, for the bootstrap to subscribe under `CONSUMERS`."""
        return {
            BACKTEST_COMPLETED: self.on_backtest_completed,
            BACKTEST_FAILED: self.on_backtest_failed,
            RUN_FAILED: self.on_run_failed,
            RUN_SKIPPED: self.on_run_skipped,
        }

    async def _deliver(self, consumer: str, event: Event, owner_id: str, title: str, body: str) -> None:
        async with self._uow() as uow:
            if not await uow.claim(consumer, event.id):
                return
            if owner_id and await uow.users.get(owner_id) is not None:
                await uow.notifications.add(
                    Notification(
                        id=storable(event.id, 36),
                        user_id=owner_id,
                        title=storable(title, 200),
                        body=storable(body, 10_000),
                        created_at=self._clock.now(),
                    )
                )
            await (
                uow.commit()
            )  # an unknown owner (deleted meanwhile): nothing to deliver, the event is handled
