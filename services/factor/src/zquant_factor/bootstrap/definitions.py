"""definitions area wiring: FactorService (definitions, models, configs, calculators) and the user-deleted
cleanup consumer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from zquant.factor.v1 import factor_pb2_grpc
from zquant_factor.adapters.expressions import CheckedExpressions
from zquant_factor.adapters.grpc.definition_servicer import FactorDefinitionServicer
from zquant_factor.adapters.registry import EngineCalculatorRegistry
from zquant_factor.adapters.sqlalchemy.definition_repository import (
    SqlAlchemyDefinitionUnitOfWork,
    map_definitions,
)
from zquant_factor.application.definitions import USER_CLEANUP_CONSUMER, USER_DELETED, DefinitionUseCases
from zquant_factor.application.factor_models import FactorModelUseCases
from zquant_factor.application.model_resolution import ModelResolution
from zquant_kit.clock import Clock
from zquant_kit.grpc.server import GrpcService
from zquant_kit.infrastructure import Infrastructure


@dataclass
class DefinitionComponents:
    unit_of_work: Callable[[], SqlAlchemyDefinitionUnitOfWork]
    definitions: DefinitionUseCases
    models: FactorModelUseCases
    resolution: ModelResolution


def wire(infra: Infrastructure, clock: Clock, services: list[GrpcService]) -> DefinitionComponents:
    map_definitions()

    unit_of_work = infra.units_of_work(SqlAlchemyDefinitionUnitOfWork)
    registry = EngineCalculatorRegistry()
    components = DefinitionComponents(
        unit_of_work,
        DefinitionUseCases(unit_of_work, clock, CheckedExpressions()),
        FactorModelUseCases(unit_of_work, clock, registry),
        ModelResolution(unit_of_work),
    )
    services.append(
        GrpcService(
            "zquant.factor.v1.FactorService",
            FactorDefinitionServicer(components.definitions, components.models, registry),
            factor_pb2_grpc.add_FactorServiceServicer_to_server,
        )
    )
    infra.subscribe(USER_CLEANUP_CONSUMER, USER_DELETED, components.definitions.on_user_deleted)
    return components
