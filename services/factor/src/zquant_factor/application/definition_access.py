"""Permission, visibility and removal steps every definition, model and config use case shares."""

from __future__ import annotations

import datetime as dt

from zquant_factor.application.definition_events import DEFINITION_DELETED, definition_changed
from zquant_factor.application.definition_ports import DefinitionUnitOfWork
from zquant_factor.domain.definitions import ownership
from zquant_factor.domain.definitions.records import FactorDefinition
from zquant_kit.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from zquant_kit.principal import Principal

READ_PERMISSION = "factor:read"
WRITE_PERMISSION = "factor:write"
ADMIN_PERMISSION = "factor:admin"
"""Built-ins are changed, and any definition deleted, by holders of this one."""


def is_admin(actor: Principal) -> bool:
    return bool(actor.has(ADMIN_PERMISSION))


def required_id(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument(field, "required")
    return value


async def visible_definition(uow: DefinitionUnitOfWork, actor: Principal, factor_id: str) -> FactorDefinition:
    """Another user's private factor is NOT_FOUND, exactly like an id that never existed."""
    found = await uow.definitions.get(required_id(factor_id, "factor_id"))
    if found is None or not (is_admin(actor) or ownership.can_see(found, actor.user_id)):
        raise NotFound("factor", factor_id)
    return found


async def changeable_definition(
    uow: DefinitionUnitOfWork, actor: Principal, factor_id: str
) -> FactorDefinition:
    """A factor the caller may change; one they only see (shared, built-in) is PERMISSION_DENIED."""
    found = await visible_definition(uow, actor, factor_id)
    if not ownership.can_change(found, actor.user_id, admin=is_admin(actor)):
        raise PermissionDenied(
            f"only the owner may change factor {found.factor_name!r}", permission=WRITE_PERMISSION
        )
    return found


async def not_deleted(uow: DefinitionUnitOfWork, actor: Principal) -> None:
    """A deleted user's access token lives on for minutes; it must not create rows nobody will clean up."""
    if await uow.deleted_users.contains(actor.user_id):
        raise Unauthenticated("account deleted", reason="ACCOUNT_DELETED")


async def remove_definition(
    uow: DefinitionUnitOfWork, definition: FactorDefinition, now: dt.datetime
) -> None:
    """The definition with its models, config and stored values, in the caller's unit of work."""
    await uow.values.delete_factor(definition.id)
    await uow.configs.delete(definition.id)
    await uow.models.delete_for_factor(definition.id)
    await uow.definitions.delete(definition)
    uow.emit(definition_changed(DEFINITION_DELETED, definition, now))
