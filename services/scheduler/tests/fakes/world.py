"""A scheduler app on a real database (PostgreSQL or SQLite) with the fakes of its outbound ports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.scheduler.tests.fakes.targets import FakeOwnerTokens, FixedCalendars, RecordingTargets
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.principal import Principal
from zquant_kit.runner import upgrade_all
from zquant_kit.settings import Settings
from zquant_scheduler.application.jobs import JobSpec
from zquant_scheduler.bootstrap import SERVICE, SchedulerApp, SchedulerConfig, build
from zquant_scheduler.domain.calendar import TradeCalendar
from zquant_scheduler.domain.jobs import MisfirePolicy

SYNC = {"target": {"data_sync": {"mode": "SYNC_MODE_INCREMENTAL"}}}


def owner(user_id: str = "u-1", *, admin: bool = False) -> Principal:
    return Principal(
        user_id, user_id, "admin" if admin else "researcher",
        frozenset({"scheduler:read", "scheduler:write", "scheduler:trigger"}),
    )  # fmt: skip


def spec(name: str = "nightly", *, config: Mapping[str, Any] = SYNC, **changes: Any) -> JobSpec:
    values: dict[str, Any] = dict(
        name=name, description="", cron_expression="", interval_seconds=1, timezone="", trading_days_only=False,
        enabled=True, config=config, max_retries=0, retry_interval_seconds=0,
        misfire_policy=MisfirePolicy.RUN_ONCE_LATE,
    )  # fmt: skip
    values.update(changes)
    return JobSpec(**values)


async def scheduler_app(
    url: str,
    targets: RecordingTargets,
    *,
    tokens: FakeOwnerTokens | None = None,
    calendar: TradeCalendar | None = None,
    **settings: str,
) -> SchedulerApp:
    env = Settings(
        {
            "ZQUANT_SCHEDULER_DATABASE_URL": url,
            "ZQUANT_EVENT_BUS": "inprocess",
            "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
            "ZQUANT_SCHEDULER_LEASE_SECONDS": "2",
            **settings,
        }
    )
    await upgrade_all([SERVICE], env)
    return build(
        SchedulerConfig.from_settings(env),
        InProcessEventBus(),
        owner_tokens=tokens or FakeOwnerTokens(default={"data:sync", "data:read", "factor:calculate", "factor:read", "backtest:run", "backtest:read"}),
        targets=targets,
        calendars=FixedCalendars(calendar or TradeCalendar(None, None, frozenset())),
    )
