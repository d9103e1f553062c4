"""sync_leases: one sync run per dataset across every marketdata replica

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from zquant_kit.persistence.migrations import target_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_leases",
        sa.Column("dataset", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        schema=target_schema(),
    )
    op.create_index("ix_sync_leases_run_id", "sync_leases", ["run_id"], schema=target_schema())


def downgrade() -> None:
    op.drop_index("ix_sync_leases_run_id", "sync_leases", schema=target_schema())
    op.drop_table("sync_leases", schema=target_schema())
