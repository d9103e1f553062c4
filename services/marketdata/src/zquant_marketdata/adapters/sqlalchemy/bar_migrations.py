"""Migration steps for bar tables: plain tables on SQLite, range-partitioned ones (`bar_tables`' DDL) on
PostgreSQL. Every revision that adds bar datasets creates and drops them through here."""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from zquant_kit.persistence.migrations import create_service_tables, drop_service_tables, target_schema
from zquant_marketdata.adapters.sqlalchemy import bar_tables


def create_bar_tables(datasets: Sequence[str]) -> None:
    if target_schema() is None:
        create_service_tables([bar_tables.BAR_TABLES[name] for name in datasets])
        return
    for statement in bar_tables.postgres_create_ddl(datasets=datasets):
        op.execute(statement)


def drop_bar_tables(datasets: Sequence[str]) -> None:
    """With their partitions on PostgreSQL; the schema stays."""
    if target_schema() is None:
        drop_service_tables([bar_tables.BAR_TABLES[name] for name in datasets])
        return
    for statement in bar_tables.postgres_drop_ddl(datasets):
        op.execute(statement)
