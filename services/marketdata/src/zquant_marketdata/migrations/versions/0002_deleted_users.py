"""deleted_users: tombstones so a deleted user's live token cannot create rows again

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from zquant_kit.persistence.migrations import target_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deleted_users",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        schema=target_schema(),
    )


def downgrade() -> None:
    op.drop_table("deleted_users", schema=target_schema())
