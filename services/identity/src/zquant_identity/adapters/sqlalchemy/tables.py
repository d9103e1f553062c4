"""Identity's tables (schema `identity`) and the imperative mapping of the pure domain classes."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.orm import registry, relationship

from zquant_identity.domain.model import (
    ApiKey,
    AuditEntry,
    Notification,
    Permission,
    RefreshToken,
    Role,
    RolePermission,
    User,
)
from zquant_identity.domain.throttling import LoginThrottle
from zquant_kit.persistence.columns import timestamps
from zquant_kit.persistence.idempotency import processed_messages_table
from zquant_kit.persistence.outbox import outbox_table

SCHEMA = "identity"
metadata = MetaData(schema=SCHEMA)
TS = DateTime(timezone=True)


def _user_id(index: bool) -> Column:
    """The user a row belongs to; it goes with them."""
    return Column(
        "user_id",
        String(36),
        ForeignKey(f"{SCHEMA}.users.id", ondelete="CASCADE"),
        nullable=False,
        index=index,
    )


roles = Table(
    "roles",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", TS, nullable=False),
)
permissions = Table(
    "permissions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("description", Text, nullable=False, default=""),
)
role_permissions = Table(
    "role_permissions",
    metadata,
    Column("role_name", String(64), ForeignKey(f"{SCHEMA}.roles.name", ondelete="CASCADE"), primary_key=True),
    Column(
        "permission",
        String(64),
        ForeignKey(f"{SCHEMA}.permissions.name", ondelete="CASCADE"),
        primary_key=True,
    ),
)
users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(64), ForeignKey(f"{SCHEMA}.roles.name"), nullable=False),
    Column("active", Boolean, nullable=False),
    *timestamps(TS),
)

# Unique ignoring case: nobody may take `Admin` while `admin` exists.
Index("ix_users_username_lower", func.lower(users.c.username), unique=True)
Index("ix_users_email_lower", func.lower(users.c.email), unique=True)
login_throttles = Table(
    "login_throttles",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("address", String(100), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("blocked_until", TS, nullable=True),
    Column("last_failure_at", TS, nullable=True, index=True),
)
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    _user_id(index=True),
    Column("family_id", String(36), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("used_at", TS, nullable=True),
    Column("revoked_at", TS, nullable=True),
)
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    _user_id(index=True),
    Column("name", String(100), nullable=False),
    Column("hmac_key_encrypted", Text, nullable=True),  # NULL only on a row from before 0004, until start
    Column("hmac_key_hex", String(64), nullable=True),  # plaintext of such a row; cleared at start
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=True),
    Column("revoked_at", TS, nullable=True),
    Column("last_used_at", TS, nullable=True),
)
api_key_nonces = Table(
    "api_key_nonces",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("nonce", String(128), primary_key=True),
    Column("seen_at", TS, nullable=False, index=True),
)
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    _user_id(index=False),  # ix_notifications_user_created leads with it
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("read", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    Index("ix_notifications_user_created", "user_id", "created_at"),
)
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("actor_user_id", String(36), nullable=False, index=True),
    Column("service", String(32), nullable=False),
    Column("method", String(200), nullable=False),
    Column("target", String(200), nullable=False),
    Column("result_code", String(32), nullable=False),
    Column("client_address", String(100), nullable=False),
    Column("time", TS, nullable=False, index=True),
)
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_key_encrypted", Text, nullable=True),  # NULL only on a row from before 0004, until start
    Column("private_key_pem", Text, nullable=True),  # plaintext of such a row; cleared at start
    Column("created_at", TS, nullable=False),
    Column(
        "retired_at", TS, nullable=True
    ),  # a newer key signs since then; this one still verifies for a while
)
# One row per user (role "") or per role (user_id ""): access tokens issued before not_before_us are refused.
token_revocations = Table(
    "token_revocations",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("role", String(64), primary_key=True),
    Column("not_before_us", BigInteger, nullable=False, index=True),
)
outbox = outbox_table(metadata)
processed_messages = processed_messages_table(metadata)

mapper_registry = registry()


def map_domain() -> None:
    """Idempotent: the domain classes are mapped once per process."""
    if mapper_registry.mappers:
        return
    mapper_registry.map_imperatively(RolePermission, role_permissions)
    mapper_registry.map_imperatively(
        Role,
        roles,
        properties={
            "grants": relationship(
                RolePermission,
                lazy="selectin",
                cascade="all, delete-orphan",
                order_by=role_permissions.c.permission,
            )
        },
    )
    mapper_registry.map_imperatively(Permission, permissions)
    mapper_registry.map_imperatively(User, users)
    mapper_registry.map_imperatively(RefreshToken, refresh_tokens)
    mapper_registry.map_imperatively(ApiKey, api_keys, exclude_properties=["hmac_key_hex"])
    mapper_registry.map_imperatively(Notification, notifications)
    mapper_registry.map_imperatively(AuditEntry, audit_log)
    mapper_registry.map_imperatively(LoginThrottle, login_throttles)
