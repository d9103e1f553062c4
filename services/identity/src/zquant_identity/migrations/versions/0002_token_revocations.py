"""identity: token revocations (per-user and per-role not-before times of access tokens)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from zquant_kit.persistence.migrations import target_schema

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    s = target_schema()
    op.create_table(
        "token_revocations",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("role", sa.String(64), primary_key=True),
        sa.Column("not_before_us", sa.BigInteger, nullable=False),
        schema=s,
    )
    op.create_index("ix_token_revocations_not_before_us", "token_revocations", ["not_before_us"], schema=s)


def downgrade() -> None:
    s = target_schema()
    op.drop_index("ix_token_revocations_not_before_us", "token_revocations", schema=s)
    op.drop_table("token_revocations", schema=s)
