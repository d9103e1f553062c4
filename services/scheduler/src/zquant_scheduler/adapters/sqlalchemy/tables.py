"""The scheduler's tables in schema `scheduler` (SQLite, in the all-in-one mode, drops the schema).

`runs` is unique on (job_id, scheduled_time): that constraint, not any lock, is what makes a slot fire once
whatever the replicas do. Times are UTC; `UtcDateTime` gives them back aware on SQLite too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from zquant_kit.persistence.columns import job_times, timestamps
from zquant_kit.persistence.idempotency import processed_messages_table
from zquant_kit.persistence.outbox import outbox_table
from zquant_kit.persistence.tombstones import deleted_users_table

SCHEMA = "scheduler"
ID = String(36)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Stored as UTC; read back timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        utc: dt.datetime = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


TS = UtcDateTime

metadata = MetaData(schema=SCHEMA)

jobs = Table(
    "jobs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner_id", ID, nullable=False),
    Column("name", String(128), nullable=False),
    Column("description", Text, nullable=False),
    Column("job_type", String(32), nullable=False),
    Column("cron_expression", String(256), nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("trading_days_only", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("config", JSON, nullable=False),
    Column("max_retries", Integer, nullable=False),
    Column("retry_interval_seconds", Integer, nullable=False),
    Column("misfire_policy", String(32), nullable=False),
    Column("next_run_at", TS(), nullable=True),
    *timestamps(TS()),
    UniqueConstraint("owner_id", "name", name="uq_jobs_owner_name"),
    Index("ix_jobs_next_run_at", "next_run_at"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("job_id", ID, nullable=False),
    Column("owner_id", ID, nullable=False),
    Column("job_name", String(128), nullable=False),
    Column("scheduled_time", TS(), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", TS(), nullable=True),
    Column("lease_holder", String(64), nullable=True),
    Column("lease_until", TS(), nullable=True),
    *job_times(TS()),
    Column("target_task_id", String(128), nullable=False),
    Column("result_summary", Text, nullable=False),
    Column("error", Text, nullable=False),
    UniqueConstraint("job_id", "scheduled_time", name="uq_runs_job_slot"),
    Index("ix_runs_status_lease", "status", "lease_until"),
    Index("ix_runs_owner_scheduled", "owner_id", "scheduled_time"),
)

run_attempts = Table(
    "run_attempts",
    metadata,
    Column("run_id", ID, nullable=False),
    Column("number", Integer, nullable=False),
    Column("step", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", TS(), nullable=False),
    Column("finished_at", TS(), nullable=False),
    Column("target_task_id", String(128), nullable=False),
    Column("result_summary", Text, nullable=False),
    Column("error", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "number"),
)

deleted_users = deleted_users_table(metadata, TS())

outbox = outbox_table(metadata)
processed_messages = processed_messages_table(metadata)

PLAIN_TABLES = [jobs, runs, run_attempts, deleted_users, outbox, processed_messages]
