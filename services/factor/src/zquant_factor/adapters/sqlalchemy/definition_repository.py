"""SQLAlchemy repositories and unit of work of the definitions, models and configs.

The domain records are mapped imperatively onto `tables`, so a use case changes the records it loaded and the
session writes the changes at commit. Values go with their factor in the same transaction (`SessionValueRows`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry

from zquant_factor.adapters.sqlalchemy import tables as t
from zquant_factor.adapters.sqlalchemy.value_rows import SessionValueRows
from zquant_factor.application.definition_ports import (
    ConfigRepository,
    DefinitionRepository,
    DefinitionUnitOfWork,
    DeletedUsers,
    ModelRepository,
)
from zquant_factor.domain.definitions.records import FactorConfig, FactorDefinition, FactorModel, Visibility
from zquant_kit.errors import AlreadyExists
from zquant_kit.persistence.statements import affected_rows
from zquant_kit.persistence.tombstones import DeletedUserRows
from zquant_kit.persistence.unit_of_work import SqlAlchemyUnitOfWork

mapper_registry = registry()


def map_definitions() -> None:
    """Idempotent: the records are mapped once per process."""
    if mapper_registry.mappers:
        return
    mapper_registry.map_imperatively(FactorDefinition, t.definitions)
    mapper_registry.map_imperatively(FactorModel, t.models)
    mapper_registry.map_imperatively(FactorConfig, t.configs)


class SqlAlchemyDefinitionRepository(DefinitionRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, definition: FactorDefinition) -> None:
        self._s.add(definition)
        try:
            await self._s.flush()
        except IntegrityError as clash:  # a concurrent add of the same name or column committed first
            field = "column_name" if "column_name" in str(clash.orig) else "factor_name"
            raise AlreadyExists("factor", getattr(definition, field), field) from None

    async def get(self, factor_id: str) -> FactorDefinition | None:
        return await self._s.get(FactorDefinition, factor_id)

    async def name_taken(self, factor_name: str, column_name: str) -> str | None:
        c = t.definitions.c
        query = select(c.factor_name, c.column_name).where(
            or_(c.factor_name == factor_name, c.column_name == column_name)
        )
        rows = (await self._s.execute(query)).all()
        if any(row.factor_name == factor_name for row in rows):
            return "factor_name"
        return "column_name" if rows else None

    async def list_visible(
        self, user_id: str | None, after: str | None, limit: int
    ) -> Sequence[FactorDefinition]:
        c = t.definitions.c
        query = select(FactorDefinition).order_by(c.factor_name).limit(limit)
        if user_id is not None:
            query = query.where(
                or_(c.owner_id.is_(None), c.visibility == Visibility.SHARED, c.owner_id == user_id)
            )
        if after is not None:
            query = query.where(c.factor_name > after)
        return (await self._s.execute(query)).scalars().all()

    async def list_owned(self, owner_id: str) -> Sequence[FactorDefinition]:
        query = select(FactorDefinition).where(t.definitions.c.owner_id == owner_id)
        return (await self._s.execute(query.order_by(t.definitions.c.id))).scalars().all()

    async def delete(self, definition: FactorDefinition) -> None:
        await self._s.delete(definition)
        await self._s.flush()


class SqlAlchemyModelRepository(ModelRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, model: FactorModel) -> None:
        self._s.add(model)
        await self._s.flush()

    async def get(self, model_id: str) -> FactorModel | None:
        return await self._s.get(FactorModel, model_id)

    async def list_for_factor(self, factor_id: str) -> Sequence[FactorModel]:
        c = t.models.c
        query = select(FactorModel).where(c.factor_id == factor_id).order_by(c.created_at, c.id)
        return (await self._s.execute(query)).scalars().all()

    async def delete(self, model: FactorModel) -> None:
        await self._s.delete(model)
        await self._s.flush()

    async def delete_for_factor(self, factor_id: str) -> int:
        await self._s.flush()
        result = await self._s.execute(
            delete(t.models).where(t.models.c.factor_id == factor_id),
            execution_options={"synchronize_session": False},
        )
        return affected_rows(result)


class SqlAlchemyConfigRepository(ConfigRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, factor_id: str) -> FactorConfig | None:
        return await self._s.get(FactorConfig, factor_id)

    async def put(self, config: FactorConfig) -> None:
        await self._s.merge(config)
        await self._s.flush()

    async def delete(self, factor_id: str) -> None:
        found = await self.get(factor_id)
        if found is not None:
            await self._s.delete(found)
            await self._s.flush()


class SqlAlchemyDeletedUsers(DeletedUserRows, DeletedUsers):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, t.deleted_users)


class SqlAlchemyDefinitionUnitOfWork(SqlAlchemyUnitOfWork, DefinitionUnitOfWork):
    processed_messages = t.processed_messages

    def _enter(self) -> None:
        self.definitions = SqlAlchemyDefinitionRepository(self.session)
        self.models = SqlAlchemyModelRepository(self.session)
        self.configs = SqlAlchemyConfigRepository(self.session)
        self.values = SessionValueRows(self.session)
        self.deleted_users = SqlAlchemyDeletedUsers(self.session)
