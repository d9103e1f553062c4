"""marketdata schema: partitioned bar tables, reference data, sync bookkeeping, watchlists, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op

from zquant_kit.persistence.migrations import create_service_tables, drop_service_tables, target_schema
from zquant_marketdata.adapters.sqlalchemy import bar_tables, tables

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

_BARS = [bar_tables.BAR_TABLES[name] for name in bar_tables.FIRST_BAR_DATASETS]


def upgrade() -> None:
    if target_schema() is None:  # SQLite: plain bar tables; PostgreSQL: partitioned ones
        create_service_tables(_BARS)
    else:
        for statement in bar_tables.postgres_create_ddl(datasets=bar_tables.FIRST_BAR_DATASETS):
            op.execute(statement)
    create_service_tables(_PLAIN)


def downgrade() -> None:
    drop_service_tables(_PLAIN)
    if target_schema() is None:
        drop_service_tables(_BARS)
        return
    for statement in bar_tables.postgres_drop_ddl(bar_tables.FIRST_BAR_DATASETS):
        op.execute(statement)
