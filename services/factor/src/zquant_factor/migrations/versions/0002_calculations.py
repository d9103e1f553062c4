"""calculations (the job records) and stale_factors (what a sync made stale)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from zquant_factor.adapters.sqlalchemy import tables
from zquant_kit.persistence.migrations import create_service_tables, drop_service_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_service_tables(tables.CALCULATION_TABLES)


def downgrade() -> None:
    drop_service_tables(tables.CALCULATION_TABLES)
