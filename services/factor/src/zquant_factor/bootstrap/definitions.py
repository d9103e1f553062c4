"""definitions area wiring: FactorService (definitions, models, configs, calculators) and the user-deleted
cleanup consumer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zquant.factor.v1 import factor_pb2_grpc
from zquant_factor.adapters.expressions import CheckedExpressions
from zquant_factor.adapters.grpc.definition_servicer import FactorDefinitionServicer
from zquant_factor.adapters.registry import EngineCalculatorRegistry
from zquant_factor.adapters.sqlalchemy import tables
from zquant_factor.adapters.sqlalchemy.definition_repository import (
    SqlAlchemyDefinitionUnitOfWork,
    map_definitions,
)
from zquant_factor.application.definitions import USER_CLEANUP_CONSUMER, USER_DELETED, DefinitionUseCases
from zquant_factor.application.factor_models import FactorModelUseCases
from zquant_factor.application.model_resolution import ModelResolution
from zquant_kit.grpc.server import GrpcService

if TYPE_CHECKING:
    from zquant_factor.bootstrap import FactorApp


def wire(app: FactorApp) -> None:
    map_definitions()

    def unit_of_work() -> SqlAlchemyDefinitionUnitOfWork:
        return SqlAlchemyDefinitionUnitOfWork(app.sessions, tables.outbox, app.relay.wake)

    registry = EngineCalculatorRegistry()
    app.definitions = DefinitionUseCases(unit_of_work, app.clock, CheckedExpressions())
    app.models = FactorModelUseCases(unit_of_work, app.clock, registry)
    app.resolution = ModelResolution(unit_of_work)
    app.grpc_services.append(
        GrpcService(
            "zquant.factor.v1.FactorService",
            FactorDefinitionServicer(app.definitions, app.models, registry),
            factor_pb2_grpc.add_FactorServiceServicer_to_server,
        )
    )

    async def subscribe() -> None:
        await app.bus.subscribe(USER_CLEANUP_CONSUMER, USER_DELETED, app.definitions.on_user_deleted)

    app.on_start(subscribe)
