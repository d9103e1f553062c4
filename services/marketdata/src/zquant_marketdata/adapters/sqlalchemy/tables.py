"""Marketdata's non-bar tables, on the same `marketdata` schema metadata as the bar tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from zquant_kit.persistence.columns import idempotency_key_columns, timestamps
from zquant_kit.persistence.idempotency import processed_messages_table
from zquant_kit.persistence.outbox import outbox_table
from zquant_kit.persistence.tombstones import deleted_users_table
from zquant_marketdata.adapters.sqlalchemy.bar_tables import SCHEMA, metadata
from zquant_marketdata.adapters.sqlalchemy.rule_tables import (
    RECORD_TABLES as RECORD_TABLES,  # on `metadata` too
)

TS = DateTime(timezone=True)

stock_basic = Table(
    "stock_basic",
    metadata,
    Column("ts_code", String(16), primary_key=True),
    Column("symbol", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("area", String(32), nullable=True),
    Column("industry", String(64), nullable=True),
    Column("market", String(32), nullable=True),
    Column("exchange", String(16), nullable=True),
    Column("list_status", String(1), nullable=False),
    Column("list_date", Date, nullable=True),
    Column("delist_date", Date, nullable=True),
    Column("updated_at", TS, nullable=False),
)
trade_cal = Table(
    "trade_cal",
    metadata,
    Column("exchange", String(8), primary_key=True),
    Column("cal_date", Date, primary_key=True),
    Column("is_open", Boolean, nullable=False),
    Column("pretrade_date", Date, nullable=True),
)
sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("requested_by", String(36), nullable=False),
    Column("datasets", Text, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("state", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("finished_at", TS, nullable=True),
)
sync_checkpoints = Table(
    "sync_checkpoints",
    metadata,
    Column("dataset", String(32), primary_key=True),
    Column("last_trade_date", Date, nullable=False),
    Column("run_id", String(36), nullable=False),
    Column("updated_at", TS, nullable=False),
)
sync_logs = Table(
    "sync_logs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("run_id", String(36), nullable=False, index=True),
    Column("dataset", String(32), nullable=False),
    Column("api_name", String(32), nullable=False),
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("rows_fetched", BigInteger, nullable=False),
    Column("inserted", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
    Column("deleted", BigInteger, nullable=False),
    Column("unchanged", BigInteger, nullable=False),
    Column("result", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("started_at", TS, nullable=False),
    Column("ended_at", TS, nullable=False),
    Column("duration_seconds", Double, nullable=False),
    Index("ix_sync_logs_dataset_started", "dataset", "started_at"),
)
table_statistics = Table(
    "table_statistics",
    metadata,
    Column("dataset", String(32), primary_key=True),
    Column("stat_date", Date, primary_key=True),
    Column("total_rows", BigInteger, nullable=False),
    Column("rows_on_date", BigInteger, nullable=False),
    Column("inserted", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
)
source_config = Table(
    "source_config",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_ciphertext", LargeBinary, nullable=True),
    Column("base_url", Text, nullable=False),
    Column("calls_per_minute", Double, nullable=False),
    Column("updated_at", TS, nullable=False),
)
favorites = Table(
    "favorites",
    metadata,
    Column("user_id", String(36), primary_key=True),
    # Collation "C" like the bar tables' ts_code: byte-order pages on PostgreSQL and SQLite alike.
    Column("ts_code", String(16, collation="C").with_variant(String(16), "sqlite"), primary_key=True),
    Column("comment", Text, nullable=False),
    *timestamps(TS),
)
positions = Table(
    "positions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False),
    # Collation "C" like daily.ts_code, so the valuation join can use daily's primary key.
    Column("ts_code", String(16, collation="C").with_variant(String(16), "sqlite"), nullable=False),
    Column("quantity", Double, nullable=False),
    Column("average_cost", Double, nullable=False),
    Column("buy_date", Date, nullable=True),
    *timestamps(TS),
    Index("ix_positions_user_code_id", "user_id", "ts_code", "id"),  # a user's keyset pages
)
sync_leases = Table(
    "sync_leases",
    metadata,
    Column("dataset", String(32), primary_key=True),
    Column("run_id", String(36), nullable=False, index=True),
    Column("expires_at", TS, nullable=False),
)
sync_run_keys = Table(
    "sync_run_keys",
    metadata,
    *idempotency_key_columns("requested_by"),
    Column("run_id", String(36), nullable=False),
    Column("created_at", TS, nullable=False),
)
validation_results = Table(
    "validation_results",
    metadata,
    *idempotency_key_columns("requested_by"),
    Column("report", Text, nullable=False),
    Column("created_at", TS, nullable=False, index=True),
)
deleted_users = deleted_users_table(metadata, TS)
outbox = outbox_table(metadata)
processed_messages = processed_messages_table(metadata)

__all__ = ["SCHEMA", "metadata"]
