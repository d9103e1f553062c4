"""bar blocks: per-(code, year) packed copies of the bar tables for whole-market reads (PostgreSQL)

Existing rows get their blocks at the next refresh: every year that holds rows is marked stale,
so reads stay correct (from the rows) until then. SQLite reads its rows directly and has none.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op

from zquant_kit.persistence.migrations import target_schema
from zquant_marketdata.adapters.sqlalchemy import bar_tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if target_schema() is None:
        return
    for statement in bar_tables.postgres_blocks_create_ddl():
        op.execute(statement)
    for dataset in bar_tables.FIRST_BAR_DATASETS:
        op.execute(
            f"INSERT INTO {bar_tables.SCHEMA}.{bar_tables.BLOCK_STALENESS} (dataset, year) "
            f"SELECT DISTINCT '{dataset}', date_part('year', trade_date)::smallint "
            f"FROM {bar_tables.SCHEMA}.{dataset}"
        )


def downgrade() -> None:
    if target_schema() is None:
        return
    for statement in bar_tables.postgres_blocks_drop_ddl():
        op.execute(statement)
