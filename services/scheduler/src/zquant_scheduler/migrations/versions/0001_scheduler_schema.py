"""scheduler schema: jobs, runs (unique per job and scheduled time), attempts, deleted users, outbox, processed
messages

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from alembic import op

from zquant_kit.persistence.migrations import target_schema
from zquant_scheduler.adapters.sqlalchemy import tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if target_schema() is None:
        bind = bind.execution_options(schema_translate_map=tables.SQLITE_SCHEMA_TRANSLATE)
    for table in tables.PLAIN_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if target_schema() is None:
        bind = bind.execution_options(schema_translate_map=tables.SQLITE_SCHEMA_TRANSLATE)
    for table in reversed(tables.PLAIN_TABLES):
        table.drop(bind)
