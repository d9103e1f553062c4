"""factor schema: definitions, models, configs, indicator state, deleted users, outbox, processed messages,
and the values (partitioned rows and per-(code, year) blocks on PostgreSQL, rows on SQLite)

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

_PLAIN = [*tables.PLAIN_TABLES, value_tables.value_series]


def upgrade() -> None:
    bind = op.get_bind()
    if target_schema() is None:
        sqlite = bind.execution_options(schema_translate_map=tables.SQLITE_SCHEMA_TRANSLATE)
        for table in [*_PLAIN, value_tables.factor_values]:
            table.create(sqlite)
        return
    for table in _PLAIN:
        table.create(bind)
    for statement in value_tables.postgres_create_ddl():
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if target_schema() is None:
        sqlite = bind.execution_options(schema_translate_map=tables.SQLITE_SCHEMA_TRANSLATE)
        for table in reversed([*_PLAIN, value_tables.factor_values]):
            table.drop(sqlite)
        return
    for statement in value_tables.postgres_drop_ddl():
        op.execute(statement)
    for table in reversed(_PLAIN):
        table.drop(bind)
