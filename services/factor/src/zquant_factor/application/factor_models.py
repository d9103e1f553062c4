"""Model and config use cases: a factor's calculators with checked parameters, its one default model, and
its config of code → model mappings. Reads need `factor:read` and visibility; changes need `factor:write`
and ownership of the factor.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from zquant_factor.application import definition_access as access
from zquant_factor.application.definition_ports import (
    CalculatorRegistry,
    Clock,
    DefinitionUnitOfWork,
    UnitOfWorkFactory,
)
from zquant_factor.domain.definitions.mappings import check_mappings
from zquant_factor.domain.definitions.params import check_params
from zquant_factor.domain.definitions.records import (
    FactorConfig,
    FactorKind,
    FactorModel,
    ModelMapping,
    Params,
)
from zquant_kit.errors import FailedPrecondition, InvalidArgument, NotFound
from zquant_kit.principal import Principal

MAX_MODELS_PER_FACTOR = 100


class FactorModelUseCases:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, registry: CalculatorRegistry) -> None:
        self._uow = uow
        self._clock = clock
        self._registry = registry

    # -- models ------------------------------------------------------------------------------

    async def create_model(
        self,
        actor: Principal,
        factor_id: str,
        model_code: str,
        params: Mapping[str, object],
        *,
        is_default: bool = False,
        enabled: bool = True,
    ) -> FactorModel:
        """Built-in indicator factors only. A factor's first model is its default whatever `is_default` says; a later default replaces the old
        one in the same unit of work."""
        actor.require(access.WRITE_PERMISSION)
        checked = self._checked_params(model_code, params)
        async with self._uow() as uow:
            definition = await access.changeable_definition(uow, actor, factor_id)
            if definition.kind is FactorKind.CUSTOM_EXPRESSION:
                raise FailedPrecondition(
                    f"factor {definition.factor_name!r} is a custom expression: it is computed from its expression"
                    " and has no calculator models"
                )
            siblings = await uow.models.list_for_factor(definition.id)
            if len(siblings) >= MAX_MODELS_PER_FACTOR:
                raise FailedPrecondition(
                    f"factor {definition.factor_name!r} has {MAX_MODELS_PER_FACTOR} models already"
                )
            now = self._clock.now()
            model = FactorModel(
                id=str(uuid.uuid4()),
                factor_id=definition.id,
                model_code=model_code,
                params=checked,
                is_default=is_default or not any(m.is_default for m in siblings),
                enabled=enabled,
                created_at=now,
                updated_at=now,
            )
            if model.is_default:
                _default_must_be_enabled(model.id, enabled)
                _unset_defaults(siblings, now)
            await uow.models.add(model)
            await uow.commit()
            return model

    async def list_models(self, actor: Principal, factor_id: str) -> Sequence[FactorModel]:
        actor.require(access.READ_PERMISSION)
        async with self._uow() as uow:
            definition = await access.visible_definition(uow, actor, factor_id)
            return await uow.models.list_for_factor(definition.id)

    async def update_model(
        self,
        actor: Principal,
        model_id: str,
        *,
        params: Mapping[str, object] | None = None,
        enabled: bool | None = None,
    ) -> FactorModel:
        """New parameters (checked against the model's calculator) and/or the enabled flag; None keeps it."""
        async with self._changing(actor, model_id) as (uow, model):
            if params is not None:
                model.params = self._checked_params(model.model_code, params)
            if enabled is False and model.enabled:
                if model.is_default:
                    _default_must_be_enabled(model.id, False)
                await _refuse_mapped(uow, model, "disable")
            if enabled is not None:
                model.enabled = enabled
            model.updated_at = self._clock.now()
        return model

    async def set_default_model(self, actor: Principal, model_id: str) -> FactorModel:
        """The model becomes its factor's one default; the old default is unset in the same unit of work."""
        async with self._changing(actor, model_id) as (uow, model):
            _default_must_be_enabled(model.id, model.enabled)
            now = self._clock.now()
            siblings = await uow.models.list_for_factor(model.factor_id)
            _unset_defaults([m for m in siblings if m.id != model.id], now)
            if not model.is_default:
                model.is_default, model.updated_at = True, now
        return model

    async def delete_model(self, actor: Principal, model_id: str) -> None:
        """Refused for the default model while the factor has others, and for a model a mapping uses."""
        async with self._changing(actor, model_id) as (uow, model):
            if model.is_default and len(await uow.models.list_for_factor(model.factor_id)) > 1:
                raise FailedPrecondition(
                    f"model {model.id!r} is the factor's default; make another model default first"
                )
            await _refuse_mapped(uow, model, "delete")
            await uow.models.delete(model)

    # -- config ------------------------------------------------------------------------------

    async def get_config(self, actor: Principal, factor_id: str) -> FactorConfig:
        actor.require(access.READ_PERMISSION)
        async with self._uow() as uow:
            definition = await access.visible_definition(uow, actor, factor_id)
            found = await uow.configs.get(definition.id)
            return found if found is not None else FactorConfig(definition.id, enabled=True)

    async def put_config(
        self, actor: Principal, factor_id: str, enabled: bool, mappings: Sequence[ModelMapping]
    ) -> FactorConfig:
        """Replaces the factor's config after checking every mapping rule (`domain.definitions.mappings`)."""
        actor.require(access.WRITE_PERMISSION)
        async with self._uow() as uow:
            definition = await access.changeable_definition(uow, actor, factor_id)
            models = await uow.models.list_for_factor(definition.id)
            checked = check_mappings(definition.id, mappings, models)
            config = FactorConfig(
                definition.id, enabled=enabled, mappings=checked, updated_at=self._clock.now()
            )
            await uow.configs.put(config)
            await uow.commit()
            return config

    # -- helpers -----------------------------------------------------------------------------

    def _checked_params(self, model_code: str, params: Mapping[str, object]) -> Params:
        schema = self._registry.schema(access.required_id(model_code, "model_code"))
        if schema is None:
            raise InvalidArgument("model_code", f"no calculator is registered as {model_code!r}")
        return check_params(schema, params)

    @asynccontextmanager
    async def _changing(
        self, actor: Principal, model_id: str
    ) -> AsyncIterator[tuple[DefinitionUnitOfWork, FactorModel]]:
        """A model of a factor the caller may change, committed when the block ends without raising.

        A model of a factor the caller cannot see is NOT_FOUND, like the factor itself."""
        actor.require(access.WRITE_PERMISSION)
        async with self._uow() as uow:
            model = await uow.models.get(access.required_id(model_id, "model_id"))
            if model is None:
                raise NotFound("model", model_id)
            try:
                await access.changeable_definition(uow, actor, model.factor_id)
            except NotFound:
                raise NotFound("model", model_id) from None
            yield uow, model
            await uow.commit()


def _unset_defaults(models: Sequence[FactorModel], now: dt.datetime) -> None:
    for other in models:
        if other.is_default:
            other.is_default = False
            other.updated_at = now


def _default_must_be_enabled(model_id: str, enabled: bool) -> None:
    if not enabled:
        raise FailedPrecondition(f"model {model_id!r}: the default model must be enabled")


async def _refuse_mapped(uow: DefinitionUnitOfWork, model: FactorModel, verb: str) -> None:
    config = await uow.configs.get(model.factor_id)
    for i, mapping in enumerate(config.mappings if config is not None else ()):
        if mapping.model_id == model.id:
            raise FailedPrecondition(
                f"cannot {verb} model {model.id!r}: the factor config's mappings[{i}] uses it"
            )
