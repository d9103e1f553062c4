"""Trading-day triggers: a fire time runs only on an open day of the synced trade calendar.

A day outside the synced range is never guessed (a new holiday may not be announced yet): that run is skipped,
with a reason the owner is told.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class TradeCalendar:
    """Open days over the synced range [first, last]; empty when nothing is synced."""

    first: dt.date | None
    last: dt.date | None
    open_days: frozenset[dt.date]

    def covers(self, day: dt.date) -> bool:
        return self.first is not None and self.last is not None and self.first <= day <= self.last


@dataclass(frozen=True)
class DayVerdict:
    runs: bool
    reason: str = ""
    notify: bool = False
    """True when the owner must hear of the skip (the calendar lacks the day); a closed day is routine."""


def trading_day_verdict(calendar: TradeCalendar, day: dt.date) -> DayVerdict:
    text = day.isoformat()
    if not calendar.covers(day):
        return DayVerdict(False, f"{text} is outside the synced trade calendar; sync trade_cal", notify=True)
    if day not in calendar.open_days:
        return DayVerdict(False, f"{text} is not a trading day (the market is closed)")
    return DayVerdict(True)
