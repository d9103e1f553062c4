"""Fire times: cron (croniter, read in the job's time zone) or a fixed interval from an anchor, always UTC out.

Time zones come from `zoneinfo` over the pinned `tzdata` package, so every replica computes the same instants.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from zquant_kit.errors import InvalidArgument
from zquant_scheduler.domain.jobs import Trigger

DEFAULT_TIMEZONE = "Asia/Shanghai"
MIN_INTERVAL_SECONDS = 1
MAX_INTERVAL_SECONDS = 366 * 86_400
MAX_CRON = 256


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument("timezone", f"unknown time zone {name!r}") from None


def check_trigger(
    cron_expression: str, interval_seconds: int, timezone: str, trading_days_only: bool
) -> Trigger:
    """Exactly one of cron and interval; a trade-day filter only on a cron (an interval has no calendar day)."""
    timezone = timezone or DEFAULT_TIMEZONE
    zone(timezone)
    if bool(cron_expression) == bool(interval_seconds):
        raise InvalidArgument("cron_expression", "set exactly one of cron_expression and interval_seconds")
    if cron_expression:
        if len(cron_expression) > MAX_CRON or not croniter.is_valid(cron_expression):
            raise InvalidArgument("cron_expression", f"not a valid cron expression: {cron_expression[:64]!r}")
    elif not MIN_INTERVAL_SECONDS <= interval_seconds <= MAX_INTERVAL_SECONDS:
        raise InvalidArgument("interval_seconds", f"between {MIN_INTERVAL_SECONDS} and {MAX_INTERVAL_SECONDS}")
    if trading_days_only and not cron_expression:
        raise InvalidArgument("trading_days_only", "a trading-day trigger needs a cron_expression")
    trigger = Trigger(cron_expression, interval_seconds, timezone, trading_days_only)
    if next_fire(trigger, dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC)) is None:
        raise InvalidArgument("cron_expression", "never fires (no such date from now on)")
    return trigger


def next_fire(trigger: Trigger, after: dt.datetime, anchor: dt.datetime) -> dt.datetime | None:
    """The first fire time strictly after `after` (UTC), None when the cron never fires again (a past year, a
    31st of February). An interval counts whole periods from `anchor`."""
    if trigger.interval_seconds:
        period = dt.timedelta(seconds=trigger.interval_seconds)
        if after < anchor:
            return anchor
        return anchor + ((after - anchor) // period + 1) * period
    local = after.astimezone(zone(trigger.timezone))
    try:
        fired: dt.datetime = croniter(trigger.cron_expression, local).get_next(dt.datetime)
    except CroniterBadDateError:
        return None
    return fired.astimezone(dt.UTC)


def local_date(trigger: Trigger, instant: dt.datetime) -> dt.date:
    """The calendar day of `instant` in the job's time zone (the day a trade calendar is asked about)."""
    return instant.astimezone(zone(trigger.timezone)).date()
