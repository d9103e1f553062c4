"""secrets at rest: encrypted signing keys (with rotation) and encrypted API-key HMAC keys

The plaintext columns become nullable and stay only until identity next starts: the service holds
the key-encryption key (ZQUANT_SECRET_KEY or its key file), so it is the service, not this
migration, that encrypts old rows and clears their plaintext (`adapters/sqlalchemy/legacy_secrets.py`).
A migration may run on another machine or in a one-off job, where a generated key file would be lost.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from zquant_kit.persistence.migrations import target_schema

revision = "0004"
down_revision = "0003"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    s = target_schema()
    with op.batch_alter_table("signing_keys", schema=s) as table:
        table.add_column(sa.Column("private_key_encrypted", sa.Text, nullable=True))
        table.add_column(sa.Column("retired_at", TS, nullable=True))
        table.alter_column("private_key_pem", existing_type=sa.Text, nullable=True)
    with op.batch_alter_table("api_keys", schema=s) as table:
        table.add_column(sa.Column("hmac_key_encrypted", sa.Text, nullable=True))
        table.alter_column("hmac_key_hex", existing_type=sa.String(64), nullable=True)


def downgrade() -> None:
    """Only possible before identity has encrypted the rows: encrypted rows have no plaintext to go back to."""
    s = target_schema()
    with op.batch_alter_table("api_keys", schema=s) as table:
        table.alter_column("hmac_key_hex", existing_type=sa.String(64), nullable=False)
        table.drop_column("hmac_key_encrypted")
    with op.batch_alter_table("signing_keys", schema=s) as table:
        table.alter_column("private_key_pem", existing_type=sa.Text, nullable=False)
        table.drop_column("retired_at")
        table.drop_column("private_key_encrypted")
