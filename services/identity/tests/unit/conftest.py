"""In-memory fakes of identity's outbound ports (application/ports.py) and the use cases wired to them.

A unit of work works on a deep copy of the store (the kit's `FakeUnitOfWork`); `commit()` makes that copy
the store, so a use case that raises before committing leaves no trace, as with a real transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import pytest

from zquant_identity.application.api_keys import ApiKeyUseCases
from zquant_identity.application.auth import AuthUseCases
from zquant_identity.application.inbox import AuditUseCases, NotificationUseCases
from zquant_identity.application.ports import AuditFilter, UserFilter
from zquant_identity.application.roles import RoleUseCases
from zquant_identity.application.users import UserUseCases
from zquant_identity.application.views import ProfileCache
from zquant_identity.domain.model import (
    ApiKey,
    AuditEntry,
    Notification,
    Permission,
    RefreshToken,
    Role,
    User,
)
from zquant_identity.domain.rules import PERMISSIONS
from zquant_identity.domain.throttling import LoginThrottle
from zquant_kit.errors import AlreadyExists
from zquant_kit.principal import Principal
from zquant_kit.revocation import Revocation
from zquant_kit.testing import USER_PASSWORD, FakeClock, FakeDatabase, root_principal
from zquant_kit.testing import FakeUnitOfWork as TransactionalFakeUnitOfWork


@dataclass
class Store:
    users: dict[str, User] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    permissions: dict[str, Permission] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    nonces: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    notifications: dict[str, Notification] = field(default_factory=dict)
    audit: dict[str, AuditEntry] = field(default_factory=dict)
    processed: set[tuple[str, str]] = field(default_factory=set)
    login_throttles: dict[tuple[str, str], LoginThrottle] = field(default_factory=dict)
    revocations: dict[tuple[str, str], int] = field(default_factory=dict)


class _OverStore:
    """A fake repository over the one in-memory store of a fake unit of work."""

    def __init__(self, store: Store) -> None:
        self._s = store


class FakeUsers(_OverStore):
    def _unique(self, user: User) -> None:
        """Stands in for the unique indexes on lower(username) and lower(email)."""
        for other in self._s.users.values():
            for name in ("username", "email"):
                if other.id != user.id and getattr(other, name).lower() == getattr(user, name).lower():
                    raise AlreadyExists("user", getattr(user, name), name)

    async def add(self, user: User) -> None:
        self._unique(user)
        self._s.users[user.id] = user

    async def save(self, user: User) -> None:
        self._unique(user)

    async def get(self, user_id: str) -> User | None:
        return self._s.users.get(user_id)

    async def by_username(self, username: str) -> User | None:
        return next((u for u in self._s.users.values() if u.username.lower() == username.lower()), None)

    async def by_email(self, email: str) -> User | None:
        return next((u for u in self._s.users.values() if u.email.lower() == email.lower()), None)

    async def list(self, filter: UserFilter, after: str | None, limit: int) -> list[User]:
        found = [
            u
            for u in sorted(self._s.users.values(), key=lambda u: u.username)
            if filter.username.lower() in u.username.lower()
            and filter.email.lower() in u.email
            and filter.role in ("", u.role)
            and filter.active in (None, u.active)
            and (after is None or u.username > after)
        ]
        return found[:limit]

    async def delete(self, user: User) -> None:
        del self._s.users[user.id]

    async def count_with_role(self, role: str) -> int:
        return sum(u.role == role for u in self._s.users.values())

    async def count_active(self, role: str) -> int:
        return sum(u.role == role and u.active for u in self._s.users.values())


class FakeLoginThrottles(_OverStore):
    async def lock(self, username: str, address: str) -> LoginThrottle:
        return self._s.login_throttles.setdefault((username, address), LoginThrottle(username, address))

    async def delete(self, throttle: LoginThrottle) -> None:
        del self._s.login_throttles[(throttle.username, throttle.address)]

    async def clear_for(self, username: str) -> None:
        self._s.login_throttles = {k: v for k, v in self._s.login_throttles.items() if k[0] != username}

    async def forget_before(self, cutoff: dt.datetime) -> None:
        self._s.login_throttles = {
            k: v
            for k, v in self._s.login_throttles.items()
            if v.last_failure_at is None or v.last_failure_at >= cutoff
        }


class FakeRoles(_OverStore):
    async def add(self, role: Role) -> None:
        self._s.roles[role.name] = role

    async def get(self, name: str) -> Role | None:
        return self._s.roles.get(name)

    async def list(self, after: str | None, limit: int) -> list[Role]:
        return [self._s.roles[n] for n in sorted(self._s.roles) if after is None or n > after][:limit]

    async def delete(self, role: Role) -> None:
        del self._s.roles[role.name]

    async def permissions(self, after: str | None, limit: int) -> list[Permission]:
        return [self._s.permissions[n] for n in sorted(self._s.permissions) if after is None or n > after][
            :limit
        ]

    async def catalogue(self) -> set[str]:
        return set(self._s.permissions)

    async def ensure_permissions(self, catalogue: dict[str, str]) -> None:
        for name, description in catalogue.items():
            self._s.permissions.setdefault(name, Permission(name, description))


class FakeRefreshTokens(_OverStore):
    async def add(self, token: RefreshToken) -> None:
        self._s.refresh_tokens[token.id] = token

    async def by_hash(self, token_hash: str, *, for_update: bool = False) -> RefreshToken | None:
        return next((t for t in self._s.refresh_tokens.values() if t.token_hash == token_hash), None)

    async def revoke_family(self, family_id: str, now: dt.datetime) -> None:
        for token in self._s.refresh_tokens.values():
            if token.family_id == family_id and token.revoked_at is None:
                token.revoked_at = now

    async def delete_for_user(self, user_id: str) -> None:
        self._s.refresh_tokens = {k: t for k, t in self._s.refresh_tokens.items() if t.user_id != user_id}


class FakeApiKeys(_OverStore):
    async def add(self, key: ApiKey) -> None:
        self._s.api_keys[key.id] = key

    async def get(self, key_id: str) -> ApiKey | None:
        return self._s.api_keys.get(key_id)

    async def list_for_user(self, user_id: str, after: str | None, limit: int) -> list[ApiKey]:
        mine = sorted((k for k in self._s.api_keys.values() if k.user_id == user_id), key=lambda k: k.id)
        return [k for k in mine if after is None or k.id > after][:limit]

    async def remember_nonce(self, key_id: str, nonce: str, now: dt.datetime, keep: dt.timedelta) -> bool:
        self._s.nonces = {k: seen for k, seen in self._s.nonces.items() if seen >= now - keep}
        if (key_id, nonce) in self._s.nonces:
            return False
        self._s.nonces[(key_id, nonce)] = now
        return True

    async def delete_for_user(self, user_id: str) -> None:
        gone = {k.id for k in self._s.api_keys.values() if k.user_id == user_id}
        self._s.api_keys = {k: v for k, v in self._s.api_keys.items() if k not in gone}
        self._s.nonces = {k: v for k, v in self._s.nonces.items() if k[0] not in gone}


class FakeNotifications(_OverStore):
    async def add(self, notification: Notification) -> None:
        self._s.notifications[notification.id] = notification

    async def get(self, notification_id: str) -> Notification | None:
        return self._s.notifications.get(notification_id)

    async def list_for_user(
        self, user_id: str, unread_only: bool, after: tuple[str, str] | None, limit: int
    ) -> list[Notification]:
        def key(n: Notification):
            return (n.created_at, n.id)

        mine = sorted(
            (
                n
                for n in self._s.notifications.values()
                if n.user_id == user_id and not (unread_only and n.read)
            ),
            key=key,
            reverse=True,
        )
        if after is not None:
            mine = [n for n in mine if key(n) < (dt.datetime.fromisoformat(after[0]), after[1])]
        return mine[:limit]

    async def mark_all_read(self, user_id: str) -> int:
        unread = [n for n in self._s.notifications.values() if n.user_id == user_id and not n.read]
        for notification in unread:
            notification.read = True
        return len(unread)

    async def delete(self, notification: Notification) -> None:
        del self._s.notifications[notification.id]

    async def delete_for_user(self, user_id: str) -> None:
        self._s.notifications = {k: n for k, n in self._s.notifications.items() if n.user_id != user_id}


class FakeAudit(_OverStore):
    async def add(self, entry: AuditEntry) -> None:
        self._s.audit[entry.id] = entry

    async def list(self, filter: AuditFilter, after: tuple[str, str] | None, limit: int) -> list[AuditEntry]:
        def key(e: AuditEntry):
            return (e.time, e.id)

        found = [
            e
            for e in sorted(self._s.audit.values(), key=key, reverse=True)
            if filter.actor_user_id in ("", e.actor_user_id)
            and filter.service in ("", e.service)
            and filter.method in ("", e.method)
            and filter.result_code in ("", e.result_code)
            and (filter.start is None or e.time >= filter.start)
            and (filter.end is None or e.time < filter.end)
            and (after is None or key(e) < (dt.datetime.fromisoformat(after[0]), after[1]))
        ]
        return found[:limit]


class FakeRevocations(_OverStore):
    async def record(self, revocation: Revocation, forget_before_us: int) -> None:
        self._s.revocations = {k: v for k, v in self._s.revocations.items() if v >= forget_before_us}
        key = (revocation.user_id, revocation.role)
        self._s.revocations[key] = max(self._s.revocations.get(key, 0), revocation.not_before_us)

    async def since(self, since_us: int) -> list[Revocation]:
        found = [Revocation(u, r, nb) for (u, r), nb in self._s.revocations.items() if nb >= since_us]
        return sorted(found, key=lambda revocation: revocation.not_before_us)


class FakeUnitOfWork(TransactionalFakeUnitOfWork[Store]):
    """identity's unit of work over the fake repositories, transactional through the kit's base."""

    def _bind(self, work: Store) -> None:
        super()._bind(work)
        self.users = FakeUsers(work)
        self.roles = FakeRoles(work)
        self.refresh_tokens = FakeRefreshTokens(work)
        self.api_keys = FakeApiKeys(work)
        self.notifications = FakeNotifications(work)
        self.audit = FakeAudit(work)
        self.login_throttles = FakeLoginThrottles(work)
        self.revocations = FakeRevocations(work)


class FakeUnitOfWorkFactory(FakeDatabase[Store]):
    """The UnitOfWorkFactory port: `store` is the committed state, `events` the committed outbox."""

    def __init__(self) -> None:
        super().__init__(Store())

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakePasswordHasher:
    """Fast stand-in for argon2id: an unsalted SHA-256, good enough to tell passwords apart."""

    async def hash(self, password: str) -> str:
        return "sha256$" + hashlib.sha256(password.encode()).hexdigest()

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == await self.hash(password)


class FakeAccessTokenIssuer:
    def issue(self, user: User, permissions: list[str], now: dt.datetime, ttl: dt.timedelta) -> str:
        return f"access:{user.id}:{int((now + ttl).timestamp())}"


class FakeSecretBox:
    """Reversible but not clear: a test can tell a sealed value from the plaintext."""

    def encrypt(self, plaintext: str) -> bytes:
        return b"sealed:" + plaintext[::-1].encode()

    def decrypt(self, ciphertext: bytes | str) -> str:
        text = ciphertext.decode() if isinstance(ciphertext, bytes) else ciphertext
        assert text.startswith("sealed:"), "decrypting something that was never encrypted"
        return text.removeprefix("sealed:")[::-1]


@dataclass
class FakeIdentity:
    """The use cases over one fake store, plus what tests need to inspect it."""

    uow: FakeUnitOfWorkFactory
    clock: FakeClock
    users: UserUseCases
    auth: AuthUseCases
    roles: RoleUseCases
    api_keys: ApiKeyUseCases
    notifications: NotificationUseCases
    audit: AuditUseCases

    @property
    def store(self) -> Store:
        return self.uow.store

    async def make_user(self, username: str, role: str = "researcher", password: str = USER_PASSWORD) -> User:
        """Creates `username` (email `<username>@example.com`) as an all-powerful admin would."""
        created = await self.users.create(
            root_principal(PERMISSIONS), username, f"{username}@example.com", password, role
        )
        return created.user

    async def principal(self, user: User) -> Principal:
        """The caller as the auth interceptor would see it, with the role's current permissions."""
        role = self.store.roles[user.role]
        return Principal(user.id, user.username, user.role, frozenset(role.permissions))


@pytest.fixture
async def app() -> FakeIdentity:
    """Use cases over an empty store with the permission catalogue and built-in roles seeded."""
    uow = FakeUnitOfWorkFactory()
    clock = FakeClock(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC))
    hasher = FakePasswordHasher()
    profiles = ProfileCache(clock)
    app = FakeIdentity(
        uow=uow,
        clock=clock,
        users=UserUseCases(uow, hasher, clock, profiles),
        auth=AuthUseCases(uow, hasher, FakeAccessTokenIssuer(), clock, FakeSecretBox()),
        roles=RoleUseCases(uow, clock, profiles),
        api_keys=ApiKeyUseCases(uow, clock, FakeSecretBox()),
        notifications=NotificationUseCases(uow, clock),
        audit=AuditUseCases(uow),
    )
    await app.roles.seed()
    return app
