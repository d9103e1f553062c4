"""Identity entities. Plain dataclasses; persistence maps them imperatively from the outside."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from zquant_kit.clock import as_utc

ACCESS_TOKEN_TTL = dt.timedelta(minutes=15)
REFRESH_TOKEN_TTL = dt.timedelta(days=7)


@dataclass(eq=False)
class RolePermission:
    role_name: str
    permission: str


@dataclass(eq=False)
class Role:
    name: str
    description: str
    created_at: dt.datetime
    grants: list[RolePermission] = field(default_factory=list)

    @property
    def permissions(self) -> list[str]:
        return sorted(g.permission for g in self.grants)

    def grant(self, permissions: list[str]) -> None:
        have = {g.permission for g in self.grants}
        for permission in permissions:
            if permission not in have:
                self.grants.append(RolePermission(self.name, permission))
                have.add(permission)

    def revoke(self, permissions: list[str]) -> None:
        drop = set(permissions)
        self.grants[:] = [g for g in self.grants if g.permission not in drop]


@dataclass(eq=False)
class Permission:
    name: str
    description: str


@dataclass(eq=False)
class User:
    id: str
    username: str
    email: str
    password_hash: str
    role: str
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(eq=False)
class RefreshToken:
    id: str
    user_id: str
    family_id: str
    token_hash: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None

    def is_spent(self) -> bool:
        return self.used_at is not None or self.revoked_at is not None

    def is_expired(self, now: dt.datetime) -> bool:
        expired: bool = as_utc(self.expires_at) <= now
        return expired


@dataclass(eq=False)
class ApiKey:
    id: str
    user_id: str
    name: str
    hmac_key_encrypted: str  # the HMAC key, encrypted under the key-encryption key (never stored in clear)
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None

    def usable(self, now: dt.datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or as_utc(self.expires_at) > now


@dataclass(eq=False)
class Notification:
    id: str
    user_id: str
    title: str
    body: str
    created_at: dt.datetime
    read: bool = False


@dataclass(eq=False)
class AuditEntry:
    id: str
    actor_user_id: str
    service: str
    method: str
    target: str
    result_code: str
    client_address: str
    time: dt.datetime
