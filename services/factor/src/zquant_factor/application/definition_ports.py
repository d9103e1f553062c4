"""Outbound ports of the definition, model and config use cases (SQL adapters come later; unit tests fake them).

Use cases change the records they loaded and commit: the adapter's session tracks the changes, as in the
watchlist. Everything one use case touches goes through one unit of work, so it commits or rolls back whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from zquant_factor.application.value_ports import FactorValueDeletion
from zquant_factor.domain.definitions.params import ParamSpec
from zquant_factor.domain.definitions.records import FactorConfig, FactorDefinition, FactorModel
from zquant_kit import unit_of_work as kit_uow
from zquant_kit.clock import Clock as Clock  # the shared port, re-exported for this layer


class DefinitionRepository(Protocol):
    async def add(self, definition: FactorDefinition) -> None:
        """Raises `AlreadyExists` (field `factor_name` or `column_name`) when a concurrent add won the race."""
        ...

    async def get(self, factor_id: str) -> FactorDefinition | None: ...

    async def name_taken(self, factor_name: str, column_name: str) -> str | None:
        """`"factor_name"` or `"column_name"` when another definition has it, else None."""
        ...

    async def list_visible(
        self, user_id: str | None, after: str | None, limit: int
    ) -> Sequence[FactorDefinition]:
        """Ordered by factor_name, after the previous page's last factor_name: built-ins, shared rows and the
        private rows of `user_id` (every row when `user_id` is None: an admin's listing)."""
        ...

    async def list_owned(self, owner_id: str) -> Sequence[FactorDefinition]: ...

    async def delete(self, definition: FactorDefinition) -> None: ...


class ModelRepository(Protocol):
    async def add(self, model: FactorModel) -> None: ...

    async def get(self, model_id: str) -> FactorModel | None: ...

    async def list_for_factor(self, factor_id: str) -> Sequence[FactorModel]:
        """Ordered by creation time, then id."""
        ...

    async def delete(self, model: FactorModel) -> None: ...

    async def delete_for_factor(self, factor_id: str) -> int: ...


class ConfigRepository(Protocol):
    async def get(self, factor_id: str) -> FactorConfig | None: ...

    async def put(self, config: FactorConfig) -> None:
        """Inserts or replaces the factor's one config."""
        ...

    async def delete(self, factor_id: str) -> None: ...


class CalculatorRegistry(Protocol):
    """The indicator engine's calculators, by model code (the engine's registry is adapted to this)."""

    def schema(self, model_code: str) -> Sequence[ParamSpec] | None:
        """The calculator's parameters, or None for a code the registry does not know."""
        ...


class ExpressionChecker(Protocol):
    """Parses a custom expression into the checked tree; raises `InvalidArgument` on field `expression`."""

    def check(self, text: str) -> None: ...


class DeletedUsers(Protocol):
    """Tombstones of users identity deleted: their still-valid access tokens must not create factors again."""

    async def mark(self, user_id: str, at: dt.datetime) -> None: ...
    async def contains(self, user_id: str) -> bool: ...


class DefinitionUnitOfWork(kit_uow.UnitOfWork, Protocol):
    """The kit's unit of work with the definition repositories."""

    definitions: DefinitionRepository
    models: ModelRepository
    configs: ConfigRepository
    values: FactorValueDeletion
    deleted_users: DeletedUsers


UnitOfWorkFactory = kit_uow.UnitOfWorkFactory[DefinitionUnitOfWork]
