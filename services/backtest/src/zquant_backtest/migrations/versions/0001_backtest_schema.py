"""backtest schema: strategies, tasks, results, reports, the data version, outbox, processed messages

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from zquant_backtest.adapters.sqlalchemy import tables
from zquant_kit.persistence.migrations import create_service_tables, drop_service_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_service_tables(tables.TABLES)


def downgrade() -> None:
    drop_service_tables(tables.TABLES)
