"""The real clock; use cases take a `Clock` port so tests can fix time."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, overload


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class Clock(Protocol):
    """The port use cases take for "now", so tests can fix time."""

    def now(self) -> dt.datetime: ...


@overload
def as_utc(value: dt.datetime) -> dt.datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)
