"""rule datasets: stk_limit (a partitioned bar table with blocks), suspend_d, namechange, dividend, index_weight

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

from zquant_kit.persistence.migrations import target_schema
from zquant_marketdata.adapters.sqlalchemy import bar_tables
from zquant_marketdata.adapters.sqlalchemy.rule_tables import RECORD_TABLES

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NEW_BARS = ("stk_limit",)


def upgrade() -> None:
    bind = op.get_bind()
    if target_schema() is None:
        sqlite = bind.execution_options(schema_translate_map={bar_tables.SCHEMA: None})
        for table in [*(bar_tables.BAR_TABLES[name] for name in _NEW_BARS), *RECORD_TABLES.values()]:
            table.create(sqlite)
        return
    for statement in bar_tables.postgres_create_ddl(datasets=_NEW_BARS):
        op.execute(statement)
    for statement in bar_tables.postgres_blocks_create_ddl():  # IF NOT EXISTS: adds stk_limit's
        op.execute(statement)
    for table in RECORD_TABLES.values():
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    translate = {bar_tables.SCHEMA: None} if target_schema() is None else {}
    for table in reversed(list(RECORD_TABLES.values())):
        table.drop(bind.execution_options(schema_translate_map=translate))
    if target_schema() is None:
        for name in _NEW_BARS:
            bar_tables.BAR_TABLES[name].drop(bind.execution_options(schema_translate_map=translate))
        return
    for name in _NEW_BARS:
        op.execute(f"DROP TABLE IF EXISTS {bar_tables.SCHEMA}.{bar_tables.block_table_name(name)}")
    for statement in bar_tables.postgres_drop_ddl(_NEW_BARS):
        op.execute(statement)
