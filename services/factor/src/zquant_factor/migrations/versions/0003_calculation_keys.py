"""calculation_keys: a caller's idempotency key bound to the calculation job it started

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from alembic import op
from sqlalchemy import Connection

from zquant_factor.adapters.sqlalchemy import tables
from zquant_kit.persistence.migrations import target_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _bind() -> Connection:
    bind = op.get_bind()
    if target_schema() is None:
        return bind.execution_options(schema_translate_map=tables.SQLITE_SCHEMA_TRANSLATE)
    return bind


def upgrade() -> None:
    bind = _bind()
    for table in tables.KEY_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = _bind()
    for table in reversed(tables.KEY_TABLES):
        table.drop(bind)
