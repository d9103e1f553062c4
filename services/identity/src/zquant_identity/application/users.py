"""User management use cases."""

from __future__ import annotations

import uuid
from typing import Sequence

from zquant_kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from zquant_kit.principal import Principal
from zquant_identity.application import events
from zquant_identity.application.revocations import revoke_user
from zquant_identity.application.ports import Clock, PasswordHasher, UnitOfWorkFactory, UserFilter
from zquant_identity.application.views import ProfileCache, UserView
from zquant_identity.domain import rules
from zquant_identity.domain.model import User

DEFAULT_ROLE = "researcher"


class UserUseCases:
    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock, cache: ProfileCache) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._cache = cache

    async def _view(self, uow, user: User) -> UserView:
        role = await uow.roles.get(user.role)
        return UserView(user, role.permissions if role else [])

    async def _get(self, uow, user_id: str) -> User:
        if not user_id:
            raise InvalidArgument("user_id", "required")
        user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("user", user_id)
        return user

    async def create(self, username: str, email: str, password: str, role: str) -> UserView:
        rules.check_username(username)
        email = rules.check_email(email)
        rules.check_password(password)
        role = role or DEFAULT_ROLE
        password_hash = await self._hasher.hash(password)
        async with self._uow() as uow:
            if await uow.roles.get(role) is None:
                raise InvalidArgument("role", f"unknown role {role!r}")
            if await uow.users.by_username(username) is not None:
                raise AlreadyExists("user", username, "username")
            if await uow.users.by_email(email) is not None:
                raise AlreadyExists("user", email, "email")
            now = self._clock.now()
            user = User(
                id=str(uuid.uuid4()),
                username=username,
                email=email,
                password_hash=password_hash,
                role=role,
                active=True,
                created_at=now,
                updated_at=now,
            )
            await uow.users.add(user)
            uow.emit(events.user_created(user, now))
            view = await self._view(uow, user)
            await uow.commit()
            return view

    async def get(self, actor: Principal, user_id: str) -> UserView:
        """Anyone may read themselves; reading others needs user:read."""
        if user_id != actor.user_id and not actor.has("user:read"):
            raise PermissionDenied("permission 'user:read' required", permission="user:read")
        cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        async with self._uow() as uow:
            view = await self._view(uow, await self._get(uow, user_id))
        self._cache.put(view)
        return view

    async def list(self, filter: UserFilter, after: str | None, limit: int) -> tuple[Sequence[UserView], bool]:
        async with self._uow() as uow:
            users = await uow.users.list(filter, after, limit + 1)
            views = [await self._view(uow, u) for u in users[:limit]]
            return views, len(users) > limit

    async def update(self, user_id: str, username: str | None, email: str | None) -> UserView:
        async with self._uow() as uow:
            user = await self._get(uow, user_id)
            if username is not None and username != user.username:
                rules.check_username(username, "user.username")
                if await uow.users.by_username(username) is not None:
                    raise AlreadyExists("user", username, "username")
                user.username = username
            if email is not None:
                email = rules.check_email(email, "user.email")
                if email != user.email:
                    if await uow.users.by_email(email) is not None:
                        raise AlreadyExists("user", email, "email")
                    user.email = email
            user.updated_at = self._clock.now()
            view = await self._view(uow, user)
            await uow.commit()
        self._cache.invalidate(user_id)
        return view

    async def set_active(self, actor: Principal, user_id: str, active: bool) -> UserView:
        if not active and user_id == actor.user_id:
            raise FailedPrecondition("you cannot deactivate yourself", reason="SELF_DEACTIVATION")
        async with self._uow() as uow:
            user = await self._get(uow, user_id)
            user.active = active
            user.updated_at = self._clock.now()
            if active:
                user.record_successful_login()
            else:
                await revoke_user(uow, user.id, user.updated_at, "user_deactivated")
            view = await self._view(uow, user)
            await uow.commit()
        self._cache.invalidate(user_id)
        return view

    async def reset_password(self, actor: Principal, user_id: str, new_password: str) -> None:
        """Only an admin may reset an admin's password: user:update alone must not take over an admin."""
        rules.check_password(new_password, "new_password")
        password_hash = await self._hasher.hash(new_password)
        async with self._uow() as uow:
            user = await self._get(uow, user_id)
            if user.role == "admin" and not actor.is_admin:
                raise PermissionDenied("only an admin may reset an admin's password", permission="user:update")
            user.password_hash = password_hash
            user.record_successful_login()
            user.updated_at = self._clock.now()
            await uow.refresh_tokens.delete_for_user(user.id)
            await revoke_user(uow, user.id, user.updated_at, "password_reset")
            await uow.commit()
        self._cache.invalidate(user_id)

    async def change_own_password(self, actor: Principal, old_password: str, new_password: str) -> None:
        if not old_password:
            raise InvalidArgument("old_password", "required")
        rules.check_password(new_password, "new_password")
        if old_password == new_password:
            raise InvalidArgument("new_password", "must differ from the old password")
        async with self._uow() as uow:
            user = await self._get(uow, actor.user_id)
            if not await self._hasher.verify(user.password_hash, old_password):
                raise InvalidArgument("old_password", "does not match the current password")
            user.password_hash = await self._hasher.hash(new_password)
            user.updated_at = self._clock.now()
            await uow.refresh_tokens.delete_for_user(user.id)
            await revoke_user(uow, user.id, user.updated_at, "password_changed")
            await uow.commit()
        self._cache.invalidate(actor.user_id)

    async def delete(self, actor: Principal, user_id: str) -> None:
        """Removes the user's keys, tokens and inbox in this transaction; other services follow the event."""
        if user_id == actor.user_id:
            raise FailedPrecondition("you cannot delete yourself", reason="SELF_DELETION")
        async with self._uow() as uow:
            user = await self._get(uow, user_id)
            if user.role == "admin" and await uow.users.count_with_role("admin") <= 1:
                raise FailedPrecondition("cannot delete the last admin", reason="LAST_ADMIN")
            await uow.api_keys.delete_for_user(user.id)
            await uow.refresh_tokens.delete_for_user(user.id)
            await uow.notifications.delete_for_user(user.id)
            await uow.users.delete(user)
            now = self._clock.now()
            await revoke_user(uow, user.id, now, "user_deleted")
            uow.emit(events.user_deleted(user.id, now))
            await uow.commit()
        self._cache.invalidate(user_id)
