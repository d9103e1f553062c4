"""SQLAlchemy repositories and unit of work for identity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_identity.adapters.sqlalchemy import tables as t
from zquant_identity.adapters.sqlalchemy.revocations import SqlAlchemyRevocationRepository
from zquant_identity.application.ports import (
    ApiKeyRepository,
    AuditFilter,
    AuditRepository,
    IdentityUnitOfWork,
    LoginThrottleRepository,
    NotificationRepository,
    RefreshTokenRepository,
    RoleRepository,
    UserFilter,
    UserRepository,
)
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
from zquant_kit.errors import AlreadyExists
from zquant_kit.events.model import Event
from zquant_kit.persistence.like import icontains
from zquant_kit.persistence.statements import affected_rows
from zquant_kit.persistence.unit_of_work import SqlAlchemyUnitOfWork
from zquant_kit.persistence.upsert import insert_or_ignore


class _SessionRepository:
    """A repository over the unit of work's session: adds and removes flush at once, so constraint errors surface
    in the call that caused them; bulk deletes keep the session's identity map in step (`synchronize_session`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def _add(self, row: object) -> None:
        self._s.add(row)
        await self._s.flush()

    async def _remove(self, row: object) -> None:
        await self._s.delete(row)
        await self._s.flush()

    async def _delete_where(self, table: Table, *conditions: ColumnElement[bool]) -> None:
        await self._s.execute(delete(table).where(*conditions).execution_options(synchronize_session="fetch"))


class SqlAlchemyUserRepository(_SessionRepository, UserRepository):
    async def _flush_unique(self, user: User) -> None:
        """A name taken by a concurrent transaction ends as ALREADY_EXISTS, as the checks before it would."""
        names = {"username": user.username, "email": user.email}  # unreadable once the flush has failed
        try:
            await self._s.flush()
        except IntegrityError as error:
            message = str(error.orig).lower()
            if "unique" not in message and "duplicate" not in message:
                raise
            # PostgreSQL names the constraint (its message also quotes the value); SQLite's message names only it.
            constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None) or message
            field = "email" if "email" in constraint.lower() else "username"
            raise AlreadyExists("user", names[field], field) from None

    async def add(self, user: User) -> None:
        self._s.add(user)
        await self._flush_unique(user)

    async def save(self, user: User) -> None:
        await self._flush_unique(user)

    async def get(self, user_id: str) -> User | None:
        return await self._s.get(User, user_id)

    async def by_username(self, username: str) -> User | None:
        query = select(User).where(func.lower(t.users.c.username) == username.lower())
        return (await self._s.execute(query)).scalar_one_or_none()

    async def by_email(self, email: str) -> User | None:
        query = select(User).where(func.lower(t.users.c.email) == email.lower())
        return (await self._s.execute(query)).scalar_one_or_none()

    async def list(self, filter: UserFilter, after: str | None, limit: int) -> Sequence[User]:
        query = select(User).order_by(t.users.c.username).limit(limit)
        if filter.username:
            query = query.where(icontains(filter.username, "username", t.users.c.username))
        if filter.email:
            query = query.where(icontains(filter.email, "email", t.users.c.email))
        if filter.role:
            query = query.where(t.users.c.role == filter.role)
        if filter.active is not None:
            query = query.where(t.users.c.active == filter.active)
        if after is not None:
            query = query.where(t.users.c.username > after)
        return (await self._s.execute(query)).scalars().all()

    async def delete(self, user: User) -> None:
        await self._remove(user)

    async def count_with_role(self, role: str) -> int:
        return (await self._s.execute(select(func.count()).where(t.users.c.role == role))).scalar_one()

    async def count_active(self, role: str) -> int:
        c = t.users.c
        query = select(c.id).where(c.role == role, c.active.is_(True)).with_for_update()
        return len((await self._s.execute(query)).all())


class SqlAlchemyLoginThrottleRepository(_SessionRepository, LoginThrottleRepository):
    async def lock(self, username: str, address: str) -> LoginThrottle:
        c = t.login_throttles.c
        await self._s.execute(
            insert_or_ignore(self._s, t.login_throttles, username=username, address=address, failures=0)
        )
        query = select(LoginThrottle).where(c.username == username, c.address == address).with_for_update()
        return (await self._s.execute(query)).scalar_one()

    async def delete(self, throttle: LoginThrottle) -> None:
        await self._remove(throttle)

    async def clear_for(self, username: str) -> None:
        await self._delete_where(t.login_throttles, t.login_throttles.c.username == username)

    async def forget_before(self, cutoff: dt.datetime) -> None:
        await self._delete_where(t.login_throttles, t.login_throttles.c.last_failure_at < cutoff)


class SqlAlchemyRoleRepository(_SessionRepository, RoleRepository):
    async def add(self, role: Role) -> None:
        await self._add(role)

    async def get(self, name: str) -> Role | None:
        return await self._s.get(Role, name)

    async def list(self, after: str | None, limit: int) -> Sequence[Role]:
        query = select(Role).order_by(t.roles.c.name).limit(limit)
        if after is not None:
            query = query.where(t.roles.c.name > after)
        return (await self._s.execute(query)).scalars().all()

    async def delete(self, role: Role) -> None:
        await self._remove(role)

    async def permissions(self, after: str | None, limit: int) -> Sequence[Permission]:
        query = select(Permission).order_by(t.permissions.c.name).limit(limit)
        if after is not None:
            query = query.where(t.permissions.c.name > after)
        return (await self._s.execute(query)).scalars().all()

    async def catalogue(self) -> set[str]:
        return set((await self._s.execute(select(t.permissions.c.name))).scalars().all())

    async def ensure_permissions(self, catalogue: dict[str, str]) -> None:
        missing = set(catalogue) - await self.catalogue()
        for name in sorted(missing):
            self._s.add(Permission(name=name, description=catalogue[name]))
        await self._s.flush()


class SqlAlchemyRefreshTokenRepository(_SessionRepository, RefreshTokenRepository):
    async def add(self, token: RefreshToken) -> None:
        await self._add(token)

    async def by_hash(self, token_hash: str, *, for_update: bool = False) -> RefreshToken | None:
        query = select(RefreshToken).where(t.refresh_tokens.c.token_hash == token_hash)
        if for_update:
            query = query.with_for_update()
        return (await self._s.execute(query)).scalar_one_or_none()

    async def revoke_family(self, family_id: str, now: dt.datetime) -> None:
        await self._s.execute(
            update(t.refresh_tokens)
            .where(t.refresh_tokens.c.family_id == family_id, t.refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session="fetch")
        )

    async def delete_for_user(self, user_id: str) -> None:
        await self._delete_where(t.refresh_tokens, t.refresh_tokens.c.user_id == user_id)


class SqlAlchemyApiKeyRepository(_SessionRepository, ApiKeyRepository):
    async def add(self, key: ApiKey) -> None:
        await self._add(key)

    async def get(self, key_id: str) -> ApiKey | None:
        return await self._s.get(ApiKey, key_id)

    async def list_for_user(self, user_id: str, after: str | None, limit: int) -> Sequence[ApiKey]:
        query = select(ApiKey).where(t.api_keys.c.user_id == user_id).order_by(t.api_keys.c.id).limit(limit)
        if after is not None:
            query = query.where(t.api_keys.c.id > after)
        return (await self._s.execute(query)).scalars().all()

    async def remember_nonce(self, key_id: str, nonce: str, now: dt.datetime, keep: dt.timedelta) -> bool:
        nonces = t.api_key_nonces
        await self._s.execute(delete(nonces).where(nonces.c.key_id == key_id, nonces.c.seen_at < now - keep))
        result = await self._s.execute(
            insert_or_ignore(self._s, nonces, key_id=key_id, nonce=nonce, seen_at=now).returning(
                nonces.c.nonce
            )  # rowcount is not reliable through an ORM session
        )
        return result.first() is not None

    async def delete_for_user(self, user_id: str) -> None:
        ids = select(t.api_keys.c.id).where(t.api_keys.c.user_id == user_id).scalar_subquery()
        await self._s.execute(delete(t.api_key_nonces).where(t.api_key_nonces.c.key_id.in_(ids)))
        await self._delete_where(t.api_keys, t.api_keys.c.user_id == user_id)


class SqlAlchemyNotificationRepository(_SessionRepository, NotificationRepository):
    async def add(self, notification: Notification) -> None:
        await self._add(notification)

    async def get(self, notification_id: str) -> Notification | None:
        return await self._s.get(Notification, notification_id)

    async def list_for_user(
        self, user_id: str, unread_only: bool, after: tuple[str, str] | None, limit: int
    ) -> Sequence[Notification]:
        c = t.notifications.c
        query = (
            select(Notification)
            .where(c.user_id == user_id)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(limit)
        )
        if unread_only:
            query = query.where(c.read.is_(False))
        if after is not None:
            created = dt.datetime.fromisoformat(after[0])
            query = query.where(or_(c.created_at < created, and_(c.created_at == created, c.id < after[1])))
        return (await self._s.execute(query)).scalars().all()

    async def mark_all_read(self, user_id: str) -> int:
        result = await self._s.execute(
            update(t.notifications)
            .where(t.notifications.c.user_id == user_id, t.notifications.c.read.is_(False))
            .values(read=True)
            .execution_options(synchronize_session="fetch")
        )
        return affected_rows(result)

    async def delete(self, notification: Notification) -> None:
        await self._remove(notification)

    async def delete_for_user(self, user_id: str) -> None:
        await self._delete_where(t.notifications, t.notifications.c.user_id == user_id)


class SqlAlchemyAuditRepository(_SessionRepository, AuditRepository):
    async def add(self, entry: AuditEntry) -> None:
        await self._add(entry)

    async def list(
        self, filter: AuditFilter, after: tuple[str, str] | None, limit: int
    ) -> Sequence[AuditEntry]:
        c = t.audit_log.c
        query = select(AuditEntry).order_by(c.time.desc(), c.id.desc()).limit(limit)
        for column, value in (
            (c.actor_user_id, filter.actor_user_id),
            (c.service, filter.service),
            (c.method, filter.method),
            (c.result_code, filter.result_code),
        ):
            if value:
                query = query.where(column == value)
        if filter.start is not None:
            query = query.where(c.time >= filter.start)
        if filter.end is not None:
            query = query.where(c.time < filter.end)
        if after is not None:
            at = dt.datetime.fromisoformat(after[0])
            query = query.where(or_(c.time < at, and_(c.time == at, c.id < after[1])))
        return (await self._s.execute(query)).scalars().all()


class SqlAlchemyIdentityUnitOfWork(SqlAlchemyUnitOfWork, IdentityUnitOfWork):
    """`on_events` sees each committed batch of events at once, before the relay publishes them."""

    processed_messages = t.processed_messages

    def __init__(self, *args, on_events: Callable[[list[Event]], None] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._on_events = on_events
        self._emitted: list[Event] = []

    def emit(self, event: Event) -> None:
        super().emit(event)
        self._emitted.append(event)

    async def commit(self) -> None:
        emitted, self._emitted = self._emitted, []
        await super().commit()
        if emitted and self._on_events is not None:
            self._on_events(emitted)

    def _enter(self) -> None:
        self._emitted = []
        self.users = SqlAlchemyUserRepository(self.session)
        self.roles = SqlAlchemyRoleRepository(self.session)
        self.refresh_tokens = SqlAlchemyRefreshTokenRepository(self.session)
        self.api_keys = SqlAlchemyApiKeyRepository(self.session)
        self.notifications = SqlAlchemyNotificationRepository(self.session)
        self.audit = SqlAlchemyAuditRepository(self.session)
        self.login_throttles = SqlAlchemyLoginThrottleRepository(self.session)
        self.revocations = SqlAlchemyRevocationRepository(self.session)
