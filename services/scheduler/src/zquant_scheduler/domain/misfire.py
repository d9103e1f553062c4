"""Which slots a claim fires: every slot late by at most the grace period gets its own run; slots missed for
longer (the scheduler was down) are collapsed by the job's misfire policy into one late run or one skip."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from zquant_scheduler.domain.jobs import MisfirePolicy

MAX_SLOTS_PER_CLAIM = 1000
"""Bounds the work of one claim; a job further behind jumps ahead (its missed slots are counted, not listed)."""


@dataclass(frozen=True)
class DueSlots:
    on_time: list[dt.datetime] = field(default_factory=list)
    late_run: dt.datetime | None = None
    skipped: dt.datetime | None = None
    missed: int = 0
    next_run_at: dt.datetime | None = None


def due_slots(
    next_run_at: dt.datetime,
    now: dt.datetime,
    grace: dt.timedelta,
    policy: MisfirePolicy,
    following: Callable[[dt.datetime], dt.datetime | None],
    lookahead: dt.timedelta = dt.timedelta(0),
) -> DueSlots:
    """The slots from `next_run_at` up to `now + lookahead` (claimed a little early, fired on time);
    `following(t)` is the first slot after `t` (None: no more, the job's `next_run_at` becomes None)."""
    slot: dt.datetime | None = next_run_at
    on_time: list[dt.datetime] = []
    missed, last_missed = 0, None
    horizon = now - grace
    while slot is not None and slot <= now + lookahead:
        if slot < horizon:
            missed, last_missed = missed + 1, slot
            slot = following(slot) if missed < MAX_SLOTS_PER_CLAIM else following(horizon)
        else:
            on_time.append(slot)
            if len(on_time) >= MAX_SLOTS_PER_CLAIM:
                break
            slot = following(slot)
    if last_missed is None:
        return DueSlots(on_time=on_time, next_run_at=slot)
    if policy is MisfirePolicy.RUN_ONCE_LATE:
        return DueSlots(on_time=on_time, late_run=last_missed, missed=missed, next_run_at=slot)
    return DueSlots(on_time=on_time, skipped=last_missed, missed=missed, next_run_at=slot)
