"""sync_run_keys and validation_results: a caller's idempotency key bound to its sync run or validation report

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from zquant_kit.persistence.migrations import target_schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _key_columns() -> list[sa.Column]:
    return [
        sa.Column("requested_by", sa.String(36), primary_key=True),
        sa.Column("idempotency_key", sa.String(128), primary_key=True),
    ]


def upgrade() -> None:
    schema = target_schema()
    op.create_table(
        "sync_run_keys",
        *_key_columns(),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )
    op.create_table(
        "validation_results",
        *_key_columns(),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )
    op.create_index("ix_validation_results_created_at", "validation_results", ["created_at"], schema=schema)


def downgrade() -> None:
    schema = target_schema()
    op.drop_index("ix_validation_results_created_at", "validation_results", schema=schema)
    op.drop_table("validation_results", schema=schema)
    op.drop_table("sync_run_keys", schema=schema)
