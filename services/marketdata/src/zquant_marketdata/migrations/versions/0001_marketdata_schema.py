"""marketdata schema: partitioned bar tables, reference data, sync bookkeeping, watchlists, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op

from zquant_kit.persistence.migrations import target_schema
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
    bind = op.get_bind()
    if target_schema() is None:
        sqlite = bind.execution_options(schema_translate_map={bar_tables.SCHEMA: None})
        for table in [*_BARS, *_PLAIN]:
            table.create(sqlite)
        return
    for statement in bar_tables.postgres_create_ddl(datasets=bar_tables.FIRST_BAR_DATASETS):
        op.execute(statement)
    for table in _PLAIN:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    translate = {bar_tables.SCHEMA: None} if target_schema() is None else {}
    for table in reversed(_PLAIN):
        table.drop(bind.execution_options(schema_translate_map=translate))
    if target_schema() is None:
        for table in reversed(_BARS):
            table.drop(bind.execution_options(schema_translate_map=translate))
        return
    for statement in bar_tables.postgres_drop_ddl(bar_tables.FIRST_BAR_DATASETS):
        op.execute(statement)
