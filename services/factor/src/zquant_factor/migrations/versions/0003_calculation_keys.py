"""calculation_keys: a caller's idempotency key bound to the calculation job it started

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from zquant_factor.adapters.sqlalchemy import tables
from zquant_kit.persistence.migrations import create_service_tables, drop_service_tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_service_tables(tables.KEY_TABLES)


def downgrade() -> None:
    drop_service_tables(tables.KEY_TABLES)
