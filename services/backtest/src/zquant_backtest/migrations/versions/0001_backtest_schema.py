"""backtest schema: strategies, tasks, results, reports, the data version, outbox, processed messages

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from alembic import op

from zquant_backtest.adapters.sqlalchemy import tables
from zquant_kit.persistence.migrations import target_schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _bind():
    bind = op.get_bind()
    if target_schema() is None:
        return bind.execution_options(schema_translate_map=tables.SQLITE_SCHEMA_TRANSLATE)
    return bind


def upgrade() -> None:
    bind = _bind()
    for table in tables.TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = _bind()
    for table in reversed(tables.TABLES):
        table.drop(bind)
