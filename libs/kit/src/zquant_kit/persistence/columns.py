"""Column groups that several services' schemas share, defined once so they stay alike.

Each call returns new `Column`s (a column belongs to one table). `timestamp` is the type of the time columns:
`DateTime(timezone=True)` unless a service reads its times back through a decorator of its own.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, String
from sqlalchemy.types import TypeEngine

UTC_TIMESTAMP = DateTime(timezone=True)
USER_ID = String(36)
IDEMPOTENCY_KEY = String(128)


def timestamps(
    timestamp: TypeEngine[dt.datetime] = UTC_TIMESTAMP,
) -> tuple[Column[dt.datetime], Column[dt.datetime]]:
    """`created_at` and `updated_at` of a record that is edited after it is created; both required."""
    return Column("created_at", timestamp, nullable=False), Column("updated_at", timestamp, nullable=False)


def job_times(timestamp: TypeEngine[dt.datetime] = UTC_TIMESTAMP) -> tuple[Column[dt.datetime], ...]:
    """`created_at` (required), then `started_at` and `finished_at` (null until a worker starts it and it ends)
    of a queued job's record."""
    return (
        Column("created_at", timestamp, nullable=False),
        Column("started_at", timestamp, nullable=True),
        Column("finished_at", timestamp, nullable=True),
    )


def idempotency_key_columns(caller: str) -> tuple[Column[str], Column[str]]:
    """Primary key of a table that binds a caller's idempotency key to what the first request started:
    (`caller`, `idempotency_key`), so a repeat finds the earlier result instead of starting again."""
    return Column(caller, USER_ID, primary_key=True), Column(
        "idempotency_key", IDEMPOTENCY_KEY, primary_key=True
    )
