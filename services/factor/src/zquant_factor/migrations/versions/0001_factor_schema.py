"""factor schema: definitions, models, configs, indicator state, deleted users, outbox, processed messages,
and the values (one packed block per (factor, column, year, stock), `value_tables`)

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from alembic import op

from zquant_factor.adapters.sqlalchemy import tables, value_tables
from zquant_kit.persistence.migrations import create_service_tables, drop_service_tables, target_schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_PLAIN = [*tables.PLAIN_TABLES, value_tables.value_blocks]


def upgrade() -> None:
    create_service_tables(_PLAIN)
    if target_schema() is not None:
        op.execute(value_tables.POSTGRES_BLOCK_STORAGE)


def downgrade() -> None:
    drop_service_tables(_PLAIN)
