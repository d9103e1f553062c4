"""The backtest service's tables in schema `backtest` (SQLite, in the all-in-one mode, drops the schema).

Tasks keep their config and headline metrics as JSON; a result is one compressed blob (result_codec), a
report one HTML text, both keyed by task and carrying the owner so a deleted user's go in one statement.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import JSON

from zquant_kit.persistence.columns import job_times, timestamps
from zquant_kit.persistence.idempotency import processed_messages_table
from zquant_kit.persistence.outbox import outbox_table

SCHEMA = "backtest"
TS = DateTime(timezone=True)
ID = String(64)

metadata = MetaData(schema=SCHEMA)

strategies = Table(
    "strategies",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner_id", ID, nullable=False),
    Column("name", String(100), nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(64), nullable=False),
    Column("code", Text, nullable=False),
    Column("params_schema", JSON, nullable=False),
    *timestamps(TS),
    UniqueConstraint("owner_id", "name", name="uq_strategies_owner_name"),
    Index("ix_strategies_owner_created", "owner_id", "created_at", "id"),
    Index("ix_strategies_created", "created_at", "id"),
)
tasks = Table(
    "tasks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner_id", ID, nullable=False),
    Column("strategy_id", ID, nullable=False),
    Column("strategy_name", String(200), nullable=False),
    Column("template_name", String(64), nullable=False),
    Column("idempotency_key", String(128), nullable=True),
    Column("code", Text, nullable=False),
    Column("params_schema", JSON, nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("config", JSON, nullable=False),
    Column("data_version", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("percent", Float, nullable=False),
    Column("reached_date", Date, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("rules_version", String(64), nullable=False),
    Column("metrics", JSON, nullable=False),
    *job_times(TS),
    UniqueConstraint("owner_id", "idempotency_key", name="uq_tasks_owner_idempotency_key"),
    Index("ix_tasks_owner_created", "owner_id", "created_at", "id"),
    Index("ix_tasks_created", "created_at", "id"),
    Index("ix_tasks_state", "state"),
)


def _task_artefact_table(name: str, payload: Column) -> Table:
    """One `payload` per task (`artefact_stores.TaskArtefacts` reads and writes them)."""
    return Table(
        name,
        metadata,
        Column("task_id", ID, primary_key=True),
        Column("owner_id", ID, nullable=False, index=True),
        payload,
    )


results = _task_artefact_table("results", Column("data", LargeBinary, nullable=False))
reports = _task_artefact_table("reports", Column("html", Text, nullable=False))
data_versions = Table(
    "data_versions",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("counter", Integer, nullable=False),
    Column("version", String(200), nullable=False),
    Column("updated_at", TS, nullable=False),
)
outbox = outbox_table(metadata)
processed_messages = processed_messages_table(metadata)

TABLES = [strategies, tasks, results, reports, data_versions, outbox, processed_messages]
"""Every table of revision 0001, in creation order."""
