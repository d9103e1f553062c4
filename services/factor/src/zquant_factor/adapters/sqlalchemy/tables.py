"""The factor service's tables in schema `factor` (SQLite, in the all-in-one mode, drops the schema).

Definitions, models and configs are small row tables mapped onto the domain records; a model's parameters
and a config's mappings are JSON. The values live in `value_tables` (packed blocks).
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import JSON, TypeDecorator

from zquant_factor.application.calculation_ports import RunMode
from zquant_factor.domain.definitions.records import FactorKind, ModelMapping, Visibility
from zquant_kit.jobs import JobState
from zquant_kit.persistence.columns import idempotency_key_columns, timestamps
from zquant_kit.persistence.idempotency import processed_messages_table
from zquant_kit.persistence.outbox import outbox_table
from zquant_kit.persistence.tombstones import deleted_users_table

SCHEMA = "factor"
TS = DateTime(timezone=True)
ID = String(36)

metadata = MetaData(schema=SCHEMA)


def _byte_order(length: int) -> String:
    """Collation "C": pages ordered by bytes on PostgreSQL, the same order as SQLite's BINARY."""
    return String(length, collation="C").with_variant(String(length), "sqlite")


def _enum(kind: type[enum.Enum]) -> Enum:
    """Stored as the enum's value (not its Python name) in a plain string column."""
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class TupleJson(TypeDecorator[tuple[str, ...]]):
    """A tuple of strings as a JSON list (a job's factor ids, codes and names)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> list[str]:
        return list(value or ())

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[str, ...]:
        return tuple(value or ())


class MappingsJson(TypeDecorator[tuple[ModelMapping, ...]]):
    """A config's mappings as a JSON list of `{"model_id", "codes"}`; codes null is the default mapping."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> list[dict[str, Any]]:
        return [
            {"model_id": m.model_id, "codes": None if m.codes is None else list(m.codes)} for m in value or ()
        ]

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[ModelMapping, ...]:
        return tuple(
            ModelMapping(m["model_id"], None if m["codes"] is None else tuple(m["codes"]))
            for m in value or ()
        )


definitions = Table(
    "definitions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("factor_name", _byte_order(100), nullable=False, unique=True),
    Column("cn_name", String(100), nullable=False),
    Column("en_name", String(100), nullable=False),
    Column("column_name", String(63), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("kind", _enum(FactorKind), nullable=False),
    Column("expression", Text, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("visibility", _enum(Visibility), nullable=False),
    Column("owner_id", ID, nullable=True, index=True),
    Column("owner_deleted", Boolean, nullable=False),
    *timestamps(TS),
)
models = Table(
    "models",
    metadata,
    Column("id", ID, primary_key=True),
    Column("factor_id", ID, ForeignKey(definitions.c.id, ondelete="CASCADE"), nullable=False),
    Column("model_code", String(64), nullable=False),
    Column("params", JSON, nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    *timestamps(TS),
    Index("ix_models_factor_created", "factor_id", "created_at", "id"),
)
configs = Table(
    "configs",
    metadata,
    Column("factor_id", ID, ForeignKey(definitions.c.id, ondelete="CASCADE"), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("mappings", MappingsJson, nullable=False),
    Column("updated_at", TS, nullable=True),
)
indicator_state = Table(
    "indicator_state",
    metadata,
    Column("factor_id", ID, primary_key=True),
    Column("model_id", ID, primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("state", LargeBinary, nullable=False),
)
deleted_users = deleted_users_table(metadata, TS)
calculations = Table(
    "calculations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner_id", ID, nullable=False),
    Column("factor_ids", TupleJson, nullable=False),
    Column("codes", TupleJson, nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("mode", _enum(RunMode), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("state", _enum(JobState), nullable=False),
    Column("percent", Float, nullable=False),
    Column("message", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("finished_at", TS, nullable=True),
    Column("values_written", Integer, nullable=False),
    Column("factor_names", TupleJson, nullable=False),
    Index("ix_calculations_owner_created", "owner_id", "created_at", "id"),
    Index("ix_calculations_created", "created_at", "id"),
)
calculation_keys = Table(
    "calculation_keys",
    metadata,
    *idempotency_key_columns("owner_id"),
    Column("job_id", String(128), nullable=False, index=True),
    Column("created_at", TS, nullable=False),
)
stale_factors = Table(
    "stale_factors",
    metadata,
    Column("factor_id", ID, primary_key=True),
    Column("since", Date, nullable=False),
)
outbox = outbox_table(metadata)
processed_messages = processed_messages_table(metadata)

PLAIN_TABLES = [definitions, models, configs, indicator_state, deleted_users, outbox, processed_messages]
"""Every table of revision 0001 but the values, in creation order."""
CALCULATION_TABLES = [calculations, stale_factors]
"""The job records and stale marks (revision 0002)."""
KEY_TABLES = [calculation_keys]
"""Submit idempotency keys (revision 0003)."""
