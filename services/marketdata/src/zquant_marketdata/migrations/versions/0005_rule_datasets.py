"""rule datasets: stk_limit (a partitioned bar table with blocks), suspend_d, namechange, dividend, index_weight

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

from zquant_kit.persistence.migrations import create_service_tables, drop_service_tables, target_schema
from zquant_marketdata.adapters.sqlalchemy import bar_tables
from zquant_marketdata.adapters.sqlalchemy.bar_migrations import create_bar_tables, drop_bar_tables
from zquant_marketdata.adapters.sqlalchemy.rule_tables import RECORD_TABLES

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NEW_BARS = ("stk_limit",)
_RECORDS = list(RECORD_TABLES.values())


def upgrade() -> None:
    create_bar_tables(_NEW_BARS)
    if target_schema() is not None:  # SQLite has no blocks
        for statement in bar_tables.postgres_blocks_create_ddl():  # IF NOT EXISTS: adds stk_limit's
            op.execute(statement)
    create_service_tables(_RECORDS)


def downgrade() -> None:
    drop_service_tables(_RECORDS)
    if target_schema() is not None:
        for name in _NEW_BARS:
            op.execute(f"DROP TABLE IF EXISTS {bar_tables.SCHEMA}.{bar_tables.block_table_name(name)}")
    drop_bar_tables(_NEW_BARS)
