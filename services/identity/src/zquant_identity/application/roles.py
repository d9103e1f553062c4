"""Roles, the permission catalogue, and role assignment."""

from __future__ import annotations

import builtins

from zquant_identity.application.admins import is_last_active_admin
from zquant_identity.application.ports import Clock, IdentityUnitOfWork, UnitOfWorkFactory
from zquant_identity.application.revocations import revoke_role, revoke_user
from zquant_identity.application.views import ProfileCache
from zquant_identity.domain import rules
from zquant_identity.domain.model import Permission, Role
from zquant_kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, found, required
from zquant_kit.pagination import Page, fetch_page
from zquant_kit.principal import Principal

SEEDED = frozenset(rules.SEED_ROLES)


class RoleUseCases:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, cache: ProfileCache) -> None:
        self._uow = uow
        self._clock = clock
        self._cache = cache

    async def _get(self, uow: IdentityUnitOfWork, name: str) -> Role:
        return found(await uow.roles.get(required(name, "name")), "role", name)

    async def create(self, actor: Principal, name: str, description: str, permissions: list[str]) -> Role:
        rules.check_role_name(name)
        rules.check_role_description(description)
        async with self._uow() as uow:
            rules.check_permissions(permissions, await uow.roles.catalogue())
            rules.require_held(actor, permissions, f"creating role {name!r}")
            if await uow.roles.get(name) is not None:
                raise AlreadyExists("role", name)
            role = Role(name=name, description=description, created_at=self._clock.now())
            role.grant(permissions)
            await uow.roles.add(role)
            await uow.commit()
            return role

    async def seed(self) -> None:
        """Idempotent start-up seed: the permission catalogue and the built-in roles, never removing anything."""
        async with self._uow() as uow:
            await uow.roles.ensure_permissions(rules.PERMISSIONS)
            for name, (description, granted) in rules.SEED_ROLES.items():
                role = await uow.roles.get(name)
                if role is None:
                    role = Role(name=name, description=description, created_at=self._clock.now())
                    role.grant(granted)
                    await uow.roles.add(role)
                elif name == "admin":
                    role.grant(granted)
            await uow.commit()

    async def get(self, name: str) -> Role:
        async with self._uow() as uow:
            return await self._get(uow, name)

    async def list(self, after: str | None, limit: int) -> Page[Role]:
        async with self._uow() as uow:
            return await fetch_page(lambda n: uow.roles.list(after, n), limit)

    async def update(self, actor: Principal, name: str, description: str) -> Role:
        rules.check_role_description(description)
        async with self._uow() as uow:
            role = await self._get(uow, name)
            rules.require_held(actor, role.permissions, f"changing role {name!r}")
            role.description = description
            await uow.commit()
            return role

    async def delete(self, actor: Principal, name: str) -> None:
        async with self._uow() as uow:
            role = await self._get(uow, name)
            rules.require_held(actor, role.permissions, f"deleting role {name!r}")
            if name in SEEDED:
                raise FailedPrecondition(f"role {name!r} is built in", reason="BUILTIN_ROLE")
            if await uow.users.count_with_role(name):
                raise FailedPrecondition(f"role {name!r} is still assigned to users", reason="ROLE_IN_USE")
            await uow.roles.delete(role)
            await uow.commit()

    async def change_permissions(
        self, actor: Principal, name: str, permissions: builtins.list[str], *, grant: bool
    ) -> Role:
        """The caller must hold what the role carries before and after: revoking only shrinks it."""
        if not permissions:
            raise InvalidArgument("permissions", "at least one permission required")
        async with self._uow() as uow:
            rules.check_permissions(permissions, await uow.roles.catalogue())
            role = await self._get(uow, name)
            rules.require_held(
                actor, [*role.permissions, *(permissions if grant else [])], f"changing role {name!r}"
            )
            if name == "admin" and not grant:
                raise FailedPrecondition("the admin role keeps every permission", reason="BUILTIN_ROLE")
            role.grant(permissions) if grant else role.revoke(permissions)
            await revoke_role(uow, name, self._clock.now(), "role_permissions_changed")
            await uow.commit()
        self._cache.clear()
        return role

    async def permissions(self, after: str | None, limit: int) -> Page[Permission]:
        async with self._uow() as uow:
            return await fetch_page(lambda n: uow.roles.permissions(after, n), limit)

    async def assign(self, actor: Principal, user_id: str, role_name: str) -> None:
        """Assigning needs every permission of the new role; only an admin changes an admin's role."""
        if not user_id:
            raise InvalidArgument("user_id", "required")
        async with self._uow() as uow:
            role = await uow.roles.get(role_name)
            if role is None:
                raise NotFound("role", role_name) if role_name else InvalidArgument("role", "required")
            user = found(await uow.users.get(user_id), "user", user_id)
            rules.require_admin_to_change(actor, user.role, "change the role of")
            rules.require_held(actor, role.permissions, f"assigning role {role_name!r}")
            if role_name != rules.ADMIN_ROLE and await is_last_active_admin(uow, user):
                raise FailedPrecondition("cannot demote the last active admin", reason="LAST_ADMIN")
            if user.role != role_name:
                await revoke_user(uow, user.id, self._clock.now(), "role_changed")
            user.role = role_name
            user.updated_at = self._clock.now()
            await uow.commit()
        self._cache.invalidate(user_id)
