"""scheduler schema: jobs, runs (unique per job and scheduled time), attempts, deleted users, outbox, processed
messages

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from zquant_kit.persistence.migrations import create_service_tables, drop_service_tables
from zquant_scheduler.adapters.sqlalchemy import tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_service_tables(tables.PLAIN_TABLES)


def downgrade() -> None:
    drop_service_tables(tables.PLAIN_TABLES)
