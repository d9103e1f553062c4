"""In-memory fakes of the definition ports (application/definition_ports.py) and the use cases wired to them.

The unit of work is the kit's transactional fake (`zquant_kit.testing.transactions`): a use case that raises
before committing leaves no trace, as with a real transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from google.protobuf import timestamp_pb2

from zquant.identity.v1 import events_pb2
from zquant_factor.application.definition_access import ADMIN_PERMISSION, READ_PERMISSION, WRITE_PERMISSION
from zquant_factor.application.definitions import USER_DELETED, DefinitionUseCases, NewDefinition
from zquant_factor.application.factor_models import FactorModelUseCases
from zquant_factor.application.model_resolution import ModelResolution
from zquant_factor.domain.definitions.params import ParamSpec, ParamType
from zquant_factor.domain.definitions.records import (
    FactorConfig,
    FactorDefinition,
    FactorKind,
    FactorModel,
    Visibility,
)
from zquant_kit.errors import AlreadyExists, InvalidArgument
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal
from zquant_kit.testing import FakeClock
from zquant_kit.testing.transactions import FakeDatabase, FakeDeletedUsers, FakeStore, FakeTransaction

NOW = dt.datetime(2024, 6, 3, 8, 0, tzinfo=dt.UTC)


@dataclass
class Store(FakeStore):
    definitions: dict[str, FactorDefinition] = field(default_factory=dict)
    models: dict[str, FactorModel] = field(default_factory=dict)
    configs: dict[str, FactorConfig] = field(default_factory=dict)
    values: set[str] = field(default_factory=set)
    """Ids of factors with stored values."""


class FakeDefinitions:
    def __init__(self, store: Store) -> None:
        self._s = store

    async def add(self, definition: FactorDefinition) -> None:
        taken = await self.name_taken(definition.factor_name, definition.column_name)
        if taken is not None:
            raise AlreadyExists("factor", getattr(definition, taken), taken)
        self._s.definitions[definition.id] = definition

    async def get(self, factor_id: str) -> FactorDefinition | None:
        return self._s.definitions.get(factor_id)

    async def name_taken(self, factor_name: str, column_name: str) -> str | None:
        for other in self._s.definitions.values():
            if other.factor_name == factor_name:
                return "factor_name"
            if other.column_name == column_name:
                return "column_name"
        return None

    async def list_visible(
        self, user_id: str | None, after: str | None, limit: int
    ) -> list[FactorDefinition]:
        rows = sorted(self._s.definitions.values(), key=lambda d: d.factor_name)
        seen = [
            d
            for d in rows
            if user_id is None or d.owner_id in (None, user_id) or d.visibility is Visibility.SHARED
        ]
        return [d for d in seen if after is None or d.factor_name > after][:limit]

    async def list_owned(self, owner_id: str) -> list[FactorDefinition]:
        return [d for d in self._s.definitions.values() if d.owner_id == owner_id]

    async def delete(self, definition: FactorDefinition) -> None:
        del self._s.definitions[definition.id]


class FakeModels:
    def __init__(self, store: Store) -> None:
        self._s = store

    async def add(self, model: FactorModel) -> None:
        self._s.models[model.id] = model

    async def get(self, model_id: str) -> FactorModel | None:
        return self._s.models.get(model_id)

    async def list_for_factor(self, factor_id: str) -> list[FactorModel]:
        mine = (m for m in self._s.models.values() if m.factor_id == factor_id)
        return sorted(mine, key=lambda m: (m.created_at, m.id))

    async def delete(self, model: FactorModel) -> None:
        del self._s.models[model.id]

    async def delete_for_factor(self, factor_id: str) -> int:
        gone = [k for k, m in self._s.models.items() if m.factor_id == factor_id]
        for key in gone:
            del self._s.models[key]
        return len(gone)


class FakeConfigs:
    def __init__(self, store: Store) -> None:
        self._s = store

    async def get(self, factor_id: str) -> FactorConfig | None:
        return self._s.configs.get(factor_id)

    async def put(self, config: FactorConfig) -> None:
        self._s.configs[config.factor_id] = config

    async def delete(self, factor_id: str) -> None:
        self._s.configs.pop(factor_id, None)


class FakeValues:
    def __init__(self, store: Store) -> None:
        self._s = store

    async def delete_factor(self, factor_id: str) -> None:
        self._s.values.discard(factor_id)


class FakeUnitOfWork(FakeTransaction[Store]):
    def open(self, work: Store) -> None:
        self.definitions = FakeDefinitions(work)
        self.models = FakeModels(work)
        self.configs = FakeConfigs(work)
        self.values = FakeValues(work)
        self.deleted_users = FakeDeletedUsers(work)


SCHEMAS: dict[str, tuple[ParamSpec, ...]] = {
    "macd": (
        ParamSpec("fast", ParamType.INT, 1, 250, 12),
        ParamSpec("slow", ParamType.INT, 1, 250, 26),
        ParamSpec("signal", ParamType.INT, 1, 250, 9),
    ),
    "boll": (
        ParamSpec("n", ParamType.INT, 1, 250, 20),
        ParamSpec("k", ParamType.FLOAT, 0.1, 10.0, 2.0),
        ParamSpec("sample_std", ParamType.BOOL, None, None, False),
    ),
}
"""Two calculators shaped like the indicator engine's: integer windows, a float width, a switch."""


class FakeRegistry:
    def schema(self, model_code: str) -> Sequence[ParamSpec] | None:
        return SCHEMAS.get(model_code)


class FakeExpressions:
    """Stands in for the expression parser: refuses anything with a negative shift or a dunder."""

    def check(self, text: str) -> None:
        if "-" in text or "__" in text:
            raise InvalidArgument("expression", "refused by the checker")


@dataclass
class World(FakeDatabase[Store]):
    store: Store = field(default_factory=Store)
    clock: FakeClock = field(default_factory=lambda: FakeClock(NOW))

    def _uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    @property
    def definitions(self) -> DefinitionUseCases:
        return DefinitionUseCases(self._uow, self.clock, FakeExpressions())

    @property
    def models(self) -> FactorModelUseCases:
        return FactorModelUseCases(self._uow, self.clock, FakeRegistry())

    @property
    def resolution(self) -> ModelResolution:
        return ModelResolution(self._uow)

    @staticmethod
    def actor(user_id: str, *extra: str, read_only: bool = False) -> Principal:
        permissions = {READ_PERMISSION} if read_only else {READ_PERMISSION, WRITE_PERMISSION}
        return Principal(user_id, user_id, "researcher", frozenset(permissions | set(extra)))

    @staticmethod
    def new_definition(name: str = "momentum_20d", **overrides: object) -> NewDefinition:
        values: dict[str, object] = {
            "factor_name": name,
            "cn_name": "二十日动量",
            "en_name": "20-day momentum",
            "column_name": name.lower().replace(".", "_"),
            "description": "close over its 20-day mean",
            "kind": FactorKind.CUSTOM_EXPRESSION,
            "expression": "rank(close / ma(close, 20))",
        }
        values.update(overrides)
        return NewDefinition(**values)  # type: ignore[arg-type]

    def builtin(self, name: str = "macd", **overrides: object) -> NewDefinition:
        return self.new_definition(name, kind=FactorKind.BUILTIN_INDICATOR, expression=None, **overrides)

    @staticmethod
    def user_deleted(user_id: str, event_id: str = "evt-1") -> Event:
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(NOW)
        message = events_pb2.UserDeletedEvent(user_id=user_id, occur_time=stamp)
        return Event(id=event_id, type=USER_DELETED, payload=message.SerializeToString(), occurred_at=NOW)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def bob() -> Principal:
    return World.actor("bob-id")


@pytest.fixture
def alice() -> Principal:
    return World.actor("alice-id")


@pytest.fixture
def admin() -> Principal:
    return Principal(
        "admin-id", "root", "admin", frozenset({READ_PERMISSION, WRITE_PERMISSION, ADMIN_PERMISSION})
    )
