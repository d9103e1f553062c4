"""gRPC inbound adapter of FactorService: proto ↔ the definition, model and config use cases.

Each RPC checks its permission at the edge (`factor:read` for reads, `factor:write` for changes); the use
cases check it again, with visibility and ownership. Errors are the kit's domain errors, mapped by the kit.
"""

from __future__ import annotations

from zquant.factor.v1 import factor_pb2, factor_pb2_grpc
from zquant_factor.adapters.grpc.definition_messages import (
    calculator_message,
    config_message,
    definition_message,
    kind_of,
    mappings_of,
    model_message,
    params_of,
    visibility_of,
)
from zquant_factor.adapters.registry import EngineCalculatorRegistry
from zquant_factor.application.definition_access import READ_PERMISSION, WRITE_PERMISSION
from zquant_factor.application.definitions import DefinitionChanges, DefinitionUseCases, NewDefinition
from zquant_factor.application.factor_models import FactorModelUseCases
from zquant_factor.domain.definitions.records import FactorDefinition, Visibility
from zquant_kit import principal
from zquant_kit.grpc.convert import optional, same_named
from zquant_kit.pagination import Cursor, Page, single_cursor

DEFINITIONS: Cursor[FactorDefinition, str] = single_cursor("factor.definitions", lambda d: d.factor_name)


class FactorDefinitionServicer(factor_pb2_grpc.FactorServiceServicer):
    def __init__(
        self, definitions: DefinitionUseCases, models: FactorModelUseCases, registry: EngineCalculatorRegistry
    ) -> None:
        self._definitions = definitions
        self._models = models
        self._registry = registry

    async def CreateFactorDefinition(self, request, context):
        actor = principal.require(WRITE_PERMISSION)
        new = NewDefinition(
            **same_named(request, "factor_name", "cn_name", "en_name", "column_name", "description"),
            kind=kind_of(request.kind),
            expression=request.expression or None,
            enabled=optional(request, "enabled", True),
            visibility=visibility_of(request.visibility) or Visibility.PRIVATE,
        )
        created = await self._definitions.create_definition(actor, new, system=request.system)
        return factor_pb2.CreateFactorDefinitionResponse(definition=definition_message(created))

    async def GetFactorDefinition(self, request, context):
        actor = principal.require(READ_PERMISSION)
        found = await self._definitions.get_definition(actor, request.factor_id)
        return factor_pb2.GetFactorDefinitionResponse(definition=definition_message(found))

    async def ListFactorDefinitions(self, request, context):
        actor = principal.require(READ_PERMISSION)
        items, next_key = await self._definitions.list_definitions(
            actor, DEFINITIONS.after(request.page_token), request.page_size
        )
        return factor_pb2.ListFactorDefinitionsResponse(
            definitions=[definition_message(d) for d in items],
            next_page_token=DEFINITIONS.next_token(Page(list(items), next_key is not None)),
        )

    async def UpdateFactorDefinition(self, request, context):
        actor = principal.require(WRITE_PERMISSION)
        changes = DefinitionChanges(
            cn_name=optional(request, "cn_name"),
            en_name=optional(request, "en_name"),
            description=optional(request, "description"),
            expression=optional(request, "expression"),
            enabled=optional(request, "enabled"),
            visibility=visibility_of(request.visibility),
        )
        updated = await self._definitions.update_definition(actor, request.factor_id, changes)
        return factor_pb2.UpdateFactorDefinitionResponse(definition=definition_message(updated))

    async def DeleteFactorDefinition(self, request, context):
        actor = principal.require(WRITE_PERMISSION)
        await self._definitions.delete_definition(actor, request.factor_id)
        return factor_pb2.DeleteFactorDefinitionResponse()

    async def CreateFactorModel(self, request, context):
        actor = principal.require(WRITE_PERMISSION)
        model = await self._models.create_model(
            actor,
            request.factor_id,
            request.model_code,
            params_of(request.params),
            is_default=request.is_default,
            enabled=optional(request, "enabled", True),
        )
        return factor_pb2.CreateFactorModelResponse(model=model_message(model))

    async def ListFactorModels(self, request, context):
        actor = principal.require(READ_PERMISSION)
        models = await self._models.list_models(actor, request.factor_id)
        return factor_pb2.ListFactorModelsResponse(models=[model_message(m) for m in models])

    async def UpdateFactorModel(self, request, context):
        actor = principal.require(WRITE_PERMISSION)
        model = await self._models.update_model(
            actor,
            request.model_id,
            params=params_of(request.params) if request.replace_params else None,
            enabled=optional(request, "enabled"),
        )
        return factor_pb2.UpdateFactorModelResponse(model=model_message(model))

    async def DeleteFactorModel(self, request, context):
        actor = principal.require(WRITE_PERMISSION)
        await self._models.delete_model(actor, request.model_id)
        return factor_pb2.DeleteFactorModelResponse()

    async def SetDefaultFactorModel(self, request, context):
        actor = principal.require(WRITE_PERMISSION)
        model = await self._models.set_default_model(actor, request.model_id)
        return factor_pb2.SetDefaultFactorModelResponse(model=model_message(model))

    async def GetFactorConfig(self, request, context):
        actor = principal.require(READ_PERMISSION)
        config = await self._models.get_config(actor, request.factor_id)
        return factor_pb2.GetFactorConfigResponse(config=config_message(config))

    async def PutFactorConfig(self, request, context):
        actor = principal.require(WRITE_PERMISSION)
        config = await self._models.put_config(
            actor, request.factor_id, request.enabled, mappings_of(request.mappings)
        )
        return factor_pb2.PutFactorConfigResponse(config=config_message(config))

    async def ListCalculators(self, request, context):
        principal.require(READ_PERMISSION)
        return factor_pb2.ListCalculatorsResponse(
            calculators=[calculator_message(c) for c in self._registry.calculators()]
        )
