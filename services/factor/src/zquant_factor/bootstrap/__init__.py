"""Composition root of the factor service.

`build` takes the `FactorConfig` that `bootstrap` (the runner's entry) reads once, builds the kit's
`Infrastructure` and what every area shares (clock, auth), lets each area (values, definitions,
calculation) wire its stores, use cases and servicer in `bootstrap/<area>.py`, and returns the declared `FactorApp`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zquant_factor.adapters.grpc.audit_targets import AUDIT_TARGET_FIELDS
from zquant_factor.adapters.sqlalchemy import tables
from zquant_factor.adapters.sqlalchemy.state_store import SqlAlchemyIndicatorStateStore
from zquant_factor.adapters.sqlalchemy.value_store import BlockValueStore
from zquant_factor.application.definitions import DefinitionUseCases
from zquant_factor.application.factor_models import FactorModelUseCases
from zquant_factor.application.model_resolution import ModelResolution
from zquant_factor.bootstrap import calculation, definitions, values
from zquant_factor.bootstrap.calculation import CalculationComponents
from zquant_factor.bootstrap.config import NAME, FactorConfig
from zquant_factor.bootstrap.definitions import DefinitionComponents
from zquant_factor.bootstrap.values import ValueComponents
from zquant_kit.clock import SystemClock
from zquant_kit.events.model import EventBus
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.grpc.server import GrpcService
from zquant_kit.grpc.wiring import auth_interceptor, remote_caller_checks
from zquant_kit.infrastructure import Infrastructure, OnInfrastructure
from zquant_kit.service import ServiceDefinition

__all__ = ["SERVICE", "FactorApp", "FactorConfig", "build"]


@dataclass
class FactorApp(OnInfrastructure):
    """What `build` returns: the runner serves `grpc_services` behind `interceptors` and starts and stops
    `infra`; tests use these same fields."""

    config: FactorConfig
    infra: Infrastructure
    clock: SystemClock
    value_components: ValueComponents
    definition_components: DefinitionComponents
    calculation: CalculationComponents
    grpc_services: list[GrpcService]
    interceptors: list[AuthInterceptor]
    name: str = NAME

    @property
    def values(self) -> BlockValueStore:
        return self.value_components.values

    @property
    def states(self) -> SqlAlchemyIndicatorStateStore:
        return self.value_components.states

    @property
    def definitions(self) -> DefinitionUseCases:
        return self.definition_components.definitions

    @property
    def models(self) -> FactorModelUseCases:
        return self.definition_components.models

    @property
    def resolution(self) -> ModelResolution:
        return self.definition_components.resolution


def build(config: FactorConfig, bus: EventBus) -> FactorApp:
    infra = Infrastructure(config.kit, tables.SCHEMA, tables.outbox, bus)
    interceptor = auth_interceptor(
        infra, remote_caller_checks(infra), audit_target_fields=AUDIT_TARGET_FIELDS
    )
    clock = SystemClock()
    services: list[GrpcService] = []
    stores = values.wire(infra)
    defined = definitions.wire(infra, clock, services)
    return FactorApp(
        config=config,
        infra=infra,
        clock=clock,
        value_components=stores,
        definition_components=defined,
        calculation=calculation.wire(infra, config, clock, stores, defined, services),
        grpc_services=services,
        interceptors=[interceptor],
    )


SERVICE = ServiceDefinition.composed(
    NAME,
    tables.SCHEMA,
    Path(__file__).resolve().parent.parent / "migrations",
    FactorConfig.from_settings,
    build,
)
