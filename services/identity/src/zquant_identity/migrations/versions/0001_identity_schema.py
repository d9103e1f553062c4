"""identity schema: users, roles, tokens, API keys, notifications, audit log, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from zquant_kit.persistence.idempotency import processed_messages_table
from zquant_kit.persistence.migrations import create_tables, target_schema
from zquant_kit.persistence.outbox import outbox_table

revision = "0001"
down_revision = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    s = target_schema()
    fk = (lambda ref: f"{s}.{ref}") if s else (lambda ref: ref)
    op.create_table(
        "roles",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        schema=s,
    )
    op.create_table(
        "permissions",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        schema=s,
    )
    op.create_table(
        "role_permissions",
        sa.Column(
            "role_name", sa.String(64), sa.ForeignKey(fk("roles.name"), ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "permission",
            sa.String(64),
            sa.ForeignKey(fk("permissions.name"), ondelete="CASCADE"),
            primary_key=True,
        ),
        schema=s,
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(64), sa.ForeignKey(fk("roles.name")), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        schema=s,
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "user_id", sa.String(36), sa.ForeignKey(fk("users.id"), ondelete="CASCADE"), nullable=False
        ),
        sa.Column("family_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        schema=s,
    )
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"], schema=s)
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"], schema=s)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "user_id", sa.String(36), sa.ForeignKey(fk("users.id"), ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("hmac_key_hex", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        schema=s,
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"], schema=s)
    op.create_table(
        "api_key_nonces",
        sa.Column("key_id", sa.String(40), primary_key=True),
        sa.Column("nonce", sa.String(128), primary_key=True),
        sa.Column("seen_at", TS, nullable=False),
        schema=s,
    )
    op.create_index("ix_api_key_nonces_seen_at", "api_key_nonces", ["seen_at"], schema=s)
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "user_id", sa.String(36), sa.ForeignKey(fk("users.id"), ondelete="CASCADE"), nullable=False
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("read", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        schema=s,
    )
    op.create_index("ix_notifications_user_created", "notifications", ["user_id", "created_at"], schema=s)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("actor_user_id", sa.String(36), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("method", sa.String(200), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("result_code", sa.String(32), nullable=False),
        sa.Column("client_address", sa.String(100), nullable=False),
        sa.Column("time", TS, nullable=False),
        schema=s,
    )
    op.create_index("ix_audit_log_actor_user_id", "audit_log", ["actor_user_id"], schema=s)
    op.create_index("ix_audit_log_time", "audit_log", ["time"], schema=s)
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("private_key_pem", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        schema=s,
    )
    create_tables(outbox_table, processed_messages_table)


def downgrade() -> None:
    s = target_schema()
    for table in (
        "processed_messages",
        "outbox",
        "signing_keys",
        "audit_log",
        "notifications",
        "api_key_nonces",
        "api_keys",
        "refresh_tokens",
        "users",
        "role_permissions",
        "permissions",
        "roles",
    ):
        op.drop_table(table, schema=s)
