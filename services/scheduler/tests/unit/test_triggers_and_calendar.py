"""Fire times (Asia/Shanghai has no DST: 17:00 local is 09:00 UTC all year), interval anchoring, and trading-day
verdicts on a calendar built from real trade dates (the SSE Composite's daily rows): the 2024 Spring Festival
holiday and its make-up Sunday workdays (调休, 2024-02-04 and 2024-02-18: offices open, the market closed)."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from zquant_kit.errors import InvalidArgument
from zquant_kit.testing import SHARED_DATA
from zquant_scheduler.domain.calendar import TradeCalendar, trading_day_verdict
from zquant_scheduler.domain.triggers import check_trigger, local_date, next_fire

pytestmark = pytest.mark.unit
UTC = dt.UTC
ANCHOR = dt.datetime(2024, 1, 1, tzinfo=UTC)


def sse_calendar(first: dt.date, last: dt.date) -> TradeCalendar:
    """Open days = the index's trade dates in [first, last]; every other day in the range is closed."""
    with (SHARED_DATA / "index" / "000001.SH.csv").open() as rows:
        days = {dt.datetime.strptime(row["trade_date"], "%Y%m%d").date() for row in csv.DictReader(rows)}
    return TradeCalendar(first, last, frozenset(d for d in days if first <= d <= last))


def test_cron_in_shanghai_is_the_same_utc_hour_all_year():
    trigger = check_trigger("0 17 * * *", 0, "", True)
    assert trigger.timezone == "Asia/Shanghai"
    for month in (1, 4, 7, 10):  # no DST: no shift in spring or autumn
        after = dt.datetime(2024, month, 1, 9, 0, tzinfo=UTC)
        assert next_fire(trigger, after, ANCHOR) == dt.datetime(2024, month, 2, 9, 0, tzinfo=UTC)
    assert local_date(trigger, dt.datetime(2024, 2, 3, 16, 30, tzinfo=UTC)) == dt.date(2024, 2, 4)


def test_cron_in_new_york_follows_its_dst():
    trigger = check_trigger("0 9 * * *", 0, "America/New_York", False)
    winter = next_fire(trigger, dt.datetime(2024, 1, 10, tzinfo=UTC), ANCHOR)
    summer = next_fire(trigger, dt.datetime(2024, 7, 10, tzinfo=UTC), ANCHOR)
    assert (winter.hour, summer.hour) == (14, 13)


def test_interval_counts_whole_periods_from_its_anchor():
    trigger = check_trigger("", 90, "", False)
    after = ANCHOR + dt.timedelta(seconds=200)
    assert next_fire(trigger, after, ANCHOR) == ANCHOR + dt.timedelta(seconds=270)
    assert next_fire(trigger, ANCHOR - dt.timedelta(days=1), ANCHOR) == ANCHOR


@pytest.mark.parametrize(
    ("cron", "interval", "zone", "trading", "field"),
    [
        ("", 0, "", False, "cron_expression"),
        ("* * * * *", 5, "", False, "cron_expression"),
        ("61 * * * *", 0, "", False, "cron_expression"),
        ("", 5, "Mars/Olympus", False, "timezone"),
        ("", 5, "", True, "trading_days_only"),
        ("", 10**9, "", False, "interval_seconds"),
    ],
)
def test_bad_triggers_name_their_field(cron, interval, zone, trading, field):
    with pytest.raises(InvalidArgument) as refused:
        check_trigger(cron, interval, zone, trading)
    assert refused.value.field == field


def test_spring_festival_holiday_and_make_up_workdays_are_skipped():
    calendar = sse_calendar(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert trading_day_verdict(calendar, dt.date(2024, 2, 8)).runs  # the last day before the holiday
    for closed in (dt.date(2024, 2, 12), dt.date(2024, 2, 4), dt.date(2024, 2, 18)):
        verdict = trading_day_verdict(calendar, closed)
        assert not verdict.runs and "not a trading day" in verdict.reason and not verdict.notify
    assert trading_day_verdict(calendar, dt.date(2024, 2, 19)).runs


def test_a_day_outside_the_synced_calendar_is_not_guessed():
    calendar = sse_calendar(dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    verdict = trading_day_verdict(calendar, dt.date(2024, 7, 1))  # a Monday, open in reality
    assert not verdict.runs and verdict.notify and "outside the synced trade calendar" in verdict.reason
    assert not trading_day_verdict(TradeCalendar(None, None, frozenset()), dt.date(2024, 2, 8)).runs
