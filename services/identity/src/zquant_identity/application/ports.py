"""Outbound ports of the identity service (implemented by adapters, faked in unit tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from zquant_identity.domain.model import (
    ApiKey,
    AuditEntry,
    Notification,
    Permission,
    RefreshToken,
    Role,
    User,
)
from zquant_identity.domain.throttling import LoginThrottle
from zquant_kit import unit_of_work as kit_uow
from zquant_kit.clock import Clock as Clock  # the shared port, re-exported for this layer
from zquant_kit.revocation import Revocation


@dataclass(frozen=True)
class UserFilter:
    username: str = ""
    email: str = ""
    role: str = ""
    active: bool | None = None


@dataclass(frozen=True)
class AuditFilter:
    actor_user_id: str = ""
    service: str = ""
    method: str = ""
    result_code: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None


class UserRepository(Protocol):
    async def add(self, user: User) -> None: ...
    async def get(self, user_id: str) -> User | None: ...
    async def save(self, user: User) -> None:
        """Writes a changed user now; a username or email taken meanwhile raises AlreadyExists (as `add` does)."""
        ...

    async def by_username(self, username: str) -> User | None:
        """Ignores case: `Admin` finds `admin`."""
        ...

    async def by_email(self, email: str) -> User | None:
        """Ignores case."""
        ...

    async def list(self, filter: UserFilter, after: str | None, limit: int) -> Sequence[User]: ...
    async def delete(self, user: User) -> None: ...
    async def count_with_role(self, role: str) -> int: ...
    async def count_active(self, role: str) -> int:
        """Locks the rows it counts, so two concurrent demotions cannot both see a second admin."""
        ...


class LoginThrottleRepository(Protocol):
    async def lock(self, username: str, address: str) -> LoginThrottle:
        """The pair's row, created empty when missing, locked so concurrent guesses all count."""
        ...

    async def delete(self, throttle: LoginThrottle) -> None: ...
    async def clear_for(self, username: str) -> None:
        """Forgets the failures of an account (its throttle key) from every address: reset, activation."""
        ...

    async def forget_before(self, cutoff: dt.datetime) -> None:
        """Drops rows whose last failure is older than `cutoff`, so guessed usernames do not pile up."""
        ...


class RoleRepository(Protocol):
    async def add(self, role: Role) -> None: ...
    async def get(self, name: str) -> Role | None: ...
    async def list(self, after: str | None, limit: int) -> Sequence[Role]: ...
    async def delete(self, role: Role) -> None: ...
    async def permissions(self, after: str | None, limit: int) -> Sequence[Permission]: ...
    async def catalogue(self) -> set[str]: ...
    async def ensure_permissions(self, catalogue: dict[str, str]) -> None: ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...
    async def by_hash(self, token_hash: str, *, for_update: bool = False) -> RefreshToken | None:
        """`for_update` locks the row, so a token can be redeemed once even under concurrent refreshes."""
        ...

    async def revoke_family(self, family_id: str, now: dt.datetime) -> None: ...
    async def delete_for_user(self, user_id: str) -> None: ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def get(self, key_id: str) -> ApiKey | None: ...
    async def list_for_user(self, user_id: str, after: str | None, limit: int) -> Sequence[ApiKey]: ...
    async def remember_nonce(self, key_id: str, nonce: str, now: dt.datetime, keep: dt.timedelta) -> bool:
        """False when the nonce was seen before (a replay)."""
        ...

    async def delete_for_user(self, user_id: str) -> None: ...


class NotificationRepository(Protocol):
    async def add(self, notification: Notification) -> None: ...
    async def get(self, notification_id: str) -> Notification | None: ...
    async def list_for_user(
        self, user_id: str, unread_only: bool, after: tuple[str, str] | None, limit: int
    ) -> Sequence[Notification]: ...
    async def mark_all_read(self, user_id: str) -> int: ...
    async def delete(self, notification: Notification) -> None: ...
    async def delete_for_user(self, user_id: str) -> None: ...


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...
    async def list(
        self, filter: AuditFilter, after: tuple[str, str] | None, limit: int
    ) -> Sequence[AuditEntry]: ...


class RevocationRepository(Protocol):
    async def record(self, revocation: Revocation, forget_before_us: int) -> None:
        """Upserts, keeping the later not-before; rows older than `forget_before_us` are dropped."""
        ...

    async def since(self, since_us: int) -> Sequence[Revocation]: ...


class IdentityUnitOfWork(kit_uow.UnitOfWork, Protocol):
    users: UserRepository
    roles: RoleRepository
    refresh_tokens: RefreshTokenRepository
    api_keys: ApiKeyRepository
    notifications: NotificationRepository
    audit: AuditRepository
    login_throttles: LoginThrottleRepository
    revocations: RevocationRepository


UnitOfWorkFactory = kit_uow.UnitOfWorkFactory[IdentityUnitOfWork]


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str, password: str) -> bool: ...


class SecretBox(Protocol):
    """Encryption at rest under a key kept outside the database (API-key HMAC keys)."""

    def encrypt(self, plaintext: str) -> bytes: ...

    def decrypt(self, ciphertext: bytes | str) -> str: ...


class AccessTokenIssuer(Protocol):
    def issue(self, user: User, permissions: list[str], now: dt.datetime, ttl: dt.timedelta) -> str: ...


class OwnerTokenIssuer(Protocol):
    def issue_for(
        self, user: User, scopes: list[str], now: dt.datetime, ttl: dt.timedelta, acting_service: str
    ) -> str:
        """An access token of `user` carrying only `scopes`, marked as issued to `acting_service` (`act`)."""
        ...
