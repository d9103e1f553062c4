"""marketdata schema: partitioned bar tables, reference data, sync bookkeeping, watchlists, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from zquant_kit.persistence.migrations import create_service_tables, drop_service_tables
from zquant_marketdata.adapters.sqlalchemy import bar_tables, tables
from zquant_marketdata.adapters.sqlalchemy.bar_migrations import create_bar_tables, drop_bar_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Created from this revision's table definitions; later revisions alter them explicitly.
_PLAIN = [
    tables.stock_basic,
    tables.trade_cal,
    tables.sync_runs,
    tables.sync_checkpoints,
    tables.sync_logs,
    tables.table_statistics,
    tables.source_config,
    tables.favorites,
    tables.positions,
    tables.outbox,
    tables.processed_messages,
]


def upgrade() -> None:
    create_bar_tables(bar_tables.FIRST_BAR_DATASETS)
    create_service_tables(_PLAIN)


def downgrade() -> None:
    drop_service_tables(_PLAIN)
    drop_bar_tables(bar_tables.FIRST_BAR_DATASETS)
