"""Definition use cases: create, read, list, update and delete factors, and the cleanup when identity deletes
a user. Visibility and ownership follow `domain.definitions.ownership`; every call re-checks its permission.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from zquant.identity.v1 import events_pb2
from zquant_factor.application import definition_access as access
from zquant_factor.application.definition_events import (
    DEFINITION_CREATED,
    DEFINITION_UPDATED,
    definition_changed,
)
from zquant_factor.application.definition_ports import Clock, ExpressionChecker, UnitOfWorkFactory
from zquant_factor.domain.definitions import fields, ownership
from zquant_factor.domain.definitions.records import (
    DefinitionFields,
    FactorConfig,
    FactorDefinition,
    FactorKind,
    Visibility,
)
from zquant_kit import pagination
from zquant_kit.errors import AlreadyExists, InvalidArgument, PermissionDenied
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal

USER_DELETED = "identity.user.deleted.v1"
USER_CLEANUP_CONSUMER = "factor-user-cleanup"


NewDefinition = DefinitionFields
"""A create request: the author's fields, checked by `create_definition`."""


@dataclass(frozen=True)
class DefinitionChanges:
    """What an update replaces; None leaves a field as it is. Name, column and kind never change: stored
    values and expressions refer to them."""

    cn_name: str | None = None
    en_name: str | None = None
    description: str | None = None
    expression: str | None = None
    enabled: bool | None = None
    visibility: Visibility | None = None


class DefinitionUseCases:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, expressions: ExpressionChecker) -> None:
        self._uow = uow
        self._clock = clock
        self._expressions = expressions

    async def create_definition(
        self, actor: Principal, new: NewDefinition, *, system: bool = False
    ) -> FactorDefinition:
        """`system` creates a built-in: owned by nobody, shared, and only with `factor:admin`."""
        actor.require(access.WRITE_PERMISSION)
        if system:
            actor.require(access.ADMIN_PERMISSION)
        now = self._clock.now()
        definition = FactorDefinition(
            id=str(uuid.uuid4()),
            factor_name=fields.check_factor_name(new.factor_name),
            cn_name=fields.check_display_name(new.cn_name, "cn_name"),
            en_name=fields.check_display_name(new.en_name, "en_name"),
            column_name=fields.check_column_name(new.column_name),
            description=fields.check_description(new.description),
            kind=new.kind,
            expression=self._checked_expression(new.kind, new.expression),
            enabled=new.enabled,
            owner_id=None if system else actor.user_id,
            visibility=Visibility.SHARED if system else new.visibility,
            created_at=now,
            updated_at=now,
        )
        async with self._uow() as uow:
            await access.not_deleted(uow, actor)
            taken = await uow.definitions.name_taken(definition.factor_name, definition.column_name)
            if taken is not None:
                raise AlreadyExists("factor", getattr(definition, taken), taken)
            await uow.definitions.add(definition)
            await uow.configs.put(FactorConfig(definition.id, enabled=True, updated_at=now))
            uow.emit(definition_changed(DEFINITION_CREATED, definition, now))
            await uow.commit()
            return definition

    async def get_definition(self, actor: Principal, factor_id: str) -> FactorDefinition:
        actor.require(access.READ_PERMISSION)
        async with self._uow() as uow:
            return await access.visible_definition(uow, actor, factor_id)

    async def list_definitions(
        self, actor: Principal, after: str | None, page_size: int
    ) -> tuple[Sequence[FactorDefinition], str | None]:
        """One page by factor_name and the key of the next page (None on the last page)."""
        actor.require(access.READ_PERMISSION)
        limit = pagination.page_size(page_size)
        viewer = None if access.is_admin(actor) else actor.user_id
        async with self._uow() as uow:
            found = await uow.definitions.list_visible(viewer, after or None, limit + 1)
        page = found[:limit]
        return page, page[-1].factor_name if len(found) > limit else None

    async def update_definition(
        self, actor: Principal, factor_id: str, changes: DefinitionChanges
    ) -> FactorDefinition:
        """A new expression drops the values stored for the old one, in the same unit of work."""
        actor.require(access.WRITE_PERMISSION)
        async with self._uow() as uow:
            definition = await access.changeable_definition(uow, actor, factor_id)
            if changes.cn_name is not None:
                definition.cn_name = fields.check_display_name(changes.cn_name, "cn_name")
            if changes.en_name is not None:
                definition.en_name = fields.check_display_name(changes.en_name, "en_name")
            if changes.description is not None:
                definition.description = fields.check_description(changes.description)
            if changes.expression is not None:
                expression = self._checked_expression(definition.kind, changes.expression)
                if expression != definition.expression:
                    definition.expression = expression
                    await uow.values.delete_factor(definition.id)
            if changes.enabled is not None:
                definition.enabled = changes.enabled
            if changes.visibility is not None:
                if definition.is_system and changes.visibility is not Visibility.SHARED:
                    raise InvalidArgument("visibility", "a built-in factor is always shared")
                definition.visibility = changes.visibility
            definition.updated_at = self._clock.now()
            uow.emit(definition_changed(DEFINITION_UPDATED, definition, definition.updated_at))
            await uow.commit()
            return definition

    async def delete_definition(self, actor: Principal, factor_id: str) -> None:
        """The owner, or an admin, deletes a factor with its models, config and stored values."""
        actor.require(access.WRITE_PERMISSION)
        async with self._uow() as uow:
            definition = await access.visible_definition(uow, actor, factor_id)
            if not ownership.can_delete(definition, actor.user_id, admin=access.is_admin(actor)):
                raise PermissionDenied(
                    f"only the owner may delete factor {definition.factor_name!r}",
                    permission=access.ADMIN_PERMISSION,
                )
            await access.remove_definition(uow, definition, self._clock.now())
            await uow.commit()

    async def on_user_deleted(self, event: Event) -> None:
        """identity.user.deleted.v1, once per event: the user's private factors go with their models, configs
        and values; the ones they shared stay, attributed to a deleted user."""
        message = event.decode(events_pb2.UserDeletedEvent)
        async with self._uow() as uow:
            if not await uow.claim(USER_CLEANUP_CONSUMER, event.id):
                return
            if message.user_id:
                now = self._clock.now()
                for definition in await uow.definitions.list_owned(message.user_id):
                    if definition.visibility is Visibility.PRIVATE:
                        await access.remove_definition(uow, definition, now)
                    elif not definition.owner_deleted:
                        definition.owner_deleted = True
                        definition.updated_at = now
                        uow.emit(definition_changed(DEFINITION_UPDATED, definition, now))
                await uow.deleted_users.mark(message.user_id, now)
            await uow.commit()

    def _checked_expression(self, kind: FactorKind, text: str | None) -> str | None:
        if kind is FactorKind.BUILTIN_INDICATOR:
            if text:
                raise InvalidArgument("expression", "only a custom expression factor has an expression")
            return None
        checked = fields.check_expression_text(text or "")
        self._expressions.check(checked)
        return checked
