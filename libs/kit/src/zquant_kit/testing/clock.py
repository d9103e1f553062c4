"""A `Clock` whose "now" a test sets and moves."""

from __future__ import annotations

import datetime as dt

from zquant_kit.clock import Clock


class FakeClock(Clock):
    def __init__(self, now: dt.datetime) -> None:
        self.current = now

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)
