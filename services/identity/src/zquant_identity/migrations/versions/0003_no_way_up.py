"""identity: usernames and emails unique ignoring case; login throttling per (account, client address)

The per-account lock (users.failed_logins / locked_until) let anyone lock the admin out with five wrong guesses;
failures now count per (account, address) in login_throttles.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from zquant_kit.persistence.migrations import target_schema

revision = "0003"
down_revision = "0002"

TS = sa.DateTime(timezone=True)


def _refuse_case_duplicates(s: str | None) -> None:
    """A unique index cannot be built over `Alice` and `alice`; say which rows to rename instead of failing late."""
    users = f'"{s}".users' if s else "users"
    for column in ("username", "email"):
        rows = op.get_bind().execute(
            sa.text(f"SELECT lower({column}) FROM {users} GROUP BY lower({column}) HAVING count(*) > 1")
        )
        clashes = sorted(row[0] for row in rows)
        if clashes:
            raise RuntimeError(
                f"identity users differ only in the case of their {column}: {', '.join(clashes)}; "
                "rename all but one of each before upgrading"
            )


def upgrade() -> None:
    s = target_schema()
    _refuse_case_duplicates(s)
    op.create_index("ix_users_username_lower", "users", [sa.text("lower(username)")], unique=True, schema=s)
    op.create_index("ix_users_email_lower", "users", [sa.text("lower(email)")], unique=True, schema=s)
    op.drop_column("users", "failed_logins", schema=s)
    op.drop_column("users", "locked_until", schema=s)
    op.create_table(
        "login_throttles",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("address", sa.String(100), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("blocked_until", TS, nullable=True),
        sa.Column("last_failure_at", TS, nullable=True),
        schema=s,
    )
    op.create_index("ix_login_throttles_last_failure_at", "login_throttles", ["last_failure_at"], schema=s)


def downgrade() -> None:
    s = target_schema()
    op.drop_table("login_throttles", schema=s)
    op.add_column("users", sa.Column("locked_until", TS, nullable=True), schema=s)
    op.add_column(
        "users", sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"), schema=s
    )
    op.drop_index("ix_users_email_lower", "users", schema=s)
    op.drop_index("ix_users_username_lower", "users", schema=s)
