"""User management use cases."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from zquant_identity.application import events
from zquant_identity.application.admins import is_last_active_admin
from zquant_identity.application.ports import (
    Clock,
    IdentityUnitOfWork,
    PasswordHasher,
    UnitOfWorkFactory,
    UserFilter,
)
from zquant_identity.application.revocations import revoke_user
from zquant_identity.application.views import ProfileCache, UserView
from zquant_identity.domain import rules
from zquant_identity.domain.model import User
from zquant_identity.domain.throttling import throttle_key
from zquant_kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, found, required
from zquant_kit.pagination import Page, fetch_page
from zquant_kit.principal import Principal

DEFAULT_ROLE = "researcher"


@dataclass(frozen=True)
class FirstAdmin:
    """The admin created at start-up; a generated password is shown once, by the caller."""

    username: str
    password: str
    generated: bool


class UserUseCases:
    def __init__(
        self, uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock, cache: ProfileCache
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._cache = cache

    async def _view(self, uow: IdentityUnitOfWork, user: User) -> UserView:
        role = await uow.roles.get(user.role)
        return UserView(user, role.permissions if role else [])

    async def _get(self, uow: IdentityUnitOfWork, user_id: str) -> User:
        return found(await uow.users.get(required(user_id, "user_id")), "user", user_id)

    async def create(self, actor: Principal, username: str, email: str, password: str, role: str) -> UserView:
        """Creating a user assigns a role, so the creator must hold every permission of that role."""
        return await self._create(actor, username, email, password, role or DEFAULT_ROLE)

    async def create_first_admin(self, username: str, email: str, password: str) -> UserView:
        """Start-up only: before the first admin exists nobody can hold the admin role's permissions."""
        return await self._create(None, username, email, password, rules.ADMIN_ROLE)

    async def ensure_first_admin(self, username: str, email: str, password: str) -> FirstAdmin | None:
        """Start-up only: the first admin, with `password`, or a generated one when it is empty (never a
        fixed default). None when an admin exists already, or another replica created it at the same moment."""
        async with self._uow() as uow:
            if await uow.users.count_with_role(rules.ADMIN_ROLE):
                return None
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12) + "-A1"
        try:
            await self.create_first_admin(username, email, password)
        except AlreadyExists:
            return None
        return FirstAdmin(username, password, generated)

    async def _create(
        self, actor: Principal | None, username: str, email: str, password: str, role: str
    ) -> UserView:
        rules.check_username(username)
        email = rules.check_email(email)
        rules.check_password(password)
        password_hash = await self._hasher.hash(password)
        async with self._uow() as uow:
            found = await uow.roles.get(role)
            if found is None:
                raise InvalidArgument("role", f"unknown role {role!r}")
            if actor is not None:
                rules.require_held(actor, found.permissions, f"creating a user with role {role!r}")
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
        if user_id != actor.user_id:
            actor.require("user:read")
        cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        async with self._uow() as uow:
            view = await self._view(uow, await self._get(uow, user_id))
        self._cache.put(view)
        return view

    async def list(self, filter: UserFilter, after: str | None, limit: int) -> Page[UserView]:
        async with self._uow() as uow:
            users = await fetch_page(lambda n: uow.users.list(filter, after, n), limit)
            return Page([await self._view(uow, u) for u in users.items], users.more)

    async def update(
        self, actor: Principal, user_id: str, username: str | None, email: str | None
    ) -> UserView:
        """Checks both fields before changing either, so no half-checked change is flushed early."""
        async with self._uow() as uow:
            user = await self._get(uow, user_id)
            rules.require_admin_to_change(actor, user.role, "rename or re-email")
            if username is not None and username != user.username:
                rules.check_username(username, "user.username")
                taken = await uow.users.by_username(username)
                if taken is not None and taken.id != user.id:
                    raise AlreadyExists("user", username, "username")
            if email is not None:
                email = rules.check_email(email, "user.email")
                taken = await uow.users.by_email(email)
                if taken is not None and taken.id != user.id:
                    raise AlreadyExists("user", email, "email")
            if username is not None:
                user.username = username
            if email is not None:
                user.email = email
            user.updated_at = self._clock.now()
            await uow.users.save(user)
            view = await self._view(uow, user)
            await uow.commit()
        self._cache.invalidate(user_id)
        return view

    async def set_active(self, actor: Principal, user_id: str, active: bool) -> UserView:
        if not active and user_id == actor.user_id:
            raise FailedPrecondition("you cannot deactivate yourself", reason="SELF_DEACTIVATION")
        async with self._uow() as uow:
            user = await self._get(uow, user_id)
            rules.require_admin_to_change(actor, user.role, "activate" if active else "deactivate")
            if not active and await is_last_active_admin(uow, user):
                raise FailedPrecondition("cannot deactivate the last active admin", reason="LAST_ADMIN")
            user.active = active
            user.updated_at = self._clock.now()
            if active:
                await uow.login_throttles.clear_for(throttle_key(user.username))
            else:
                await revoke_user(uow, user.id, user.updated_at, "user_deactivated")
            view = await self._view(uow, user)
            await uow.commit()
        self._cache.invalidate(user_id)
        return view

    async def reset_password(self, actor: Principal, user_id: str, new_password: str) -> None:
        """Also lifts the account's login throttles, so the new password works at once."""
        rules.check_password(new_password, "new_password")
        password_hash = await self._hasher.hash(new_password)
        async with self._uow() as uow:
            user = await self._get(uow, user_id)
            rules.require_admin_to_change(actor, user.role, "reset the password of")
            user.password_hash = password_hash
            await uow.login_throttles.clear_for(throttle_key(user.username))
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
            rules.require_admin_to_change(actor, user.role, "delete")
            if await is_last_active_admin(uow, user):
                raise FailedPrecondition("cannot delete the last active admin", reason="LAST_ADMIN")
            await uow.api_keys.delete_for_user(user.id)
            await uow.refresh_tokens.delete_for_user(user.id)
            await uow.notifications.delete_for_user(user.id)
            await uow.users.delete(user)
            now = self._clock.now()
            await revoke_user(uow, user.id, now, "user_deleted")
            uow.emit(events.user_deleted(user.id, now))
            await uow.commit()
        self._cache.invalidate(user_id)
