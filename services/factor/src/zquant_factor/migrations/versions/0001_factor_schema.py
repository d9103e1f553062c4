"""factor schema: definitions, models, configs, indicator state, deleted users, outbox, processed messages,
and the values (one packed block per (factor, column, year, stock), `value_tables`)

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from alembic import op

from zquant_factor.adapters.sqlalchemy import tables, value_tables
from zquant_kit.persistence.migrations import target_schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_PLAIN = [*tables.PLAIN_TABLES, value_tables.value_blocks]


def upgrade() -> None:
    bind = op.get_bind()
    if target_schema() is None:
        sqlite = bind.execution_options(schema_translate_map=tables.SQLITE_SCHEMA_TRANSLATE)
        for table in _PLAIN:
            table.create(sqlite)
        return
    for table in _PLAIN:
        table.create(bind)
    op.execute(value_tables.POSTGRES_BLOCK_STORAGE)


def downgrade() -> None:
    bind = op.get_bind()
    if target_schema() is None:
        sqlite = bind.execution_options(schema_translate_map=tables.SQLITE_SCHEMA_TRANSLATE)
        for table in reversed(_PLAIN):
            table.drop(sqlite)
        return
    for table in reversed(_PLAIN):
        table.drop(bind)
