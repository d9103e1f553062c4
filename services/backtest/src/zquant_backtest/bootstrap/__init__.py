"""Composition root of the backtest service.

`build` takes the `BacktestConfig` that `SERVICE`'s bootstrap reads once and the outbound adapters' factories
(`bootstrap/adapters.py`), builds the kit's `Infrastructure`, wires the strategy and task areas
(`bootstrap/strategies.py`, `bootstrap/tasks.py`) and returns the declared `BacktestApp`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from zquant.backtest.v1 import strategy_pb2_grpc
from zquant_backtest.adapters.grpc.audit_targets import AUDIT_TARGET_FIELDS
from zquant_backtest.adapters.grpc.strategy_servicer import StrategyServicer
from zquant_backtest.adapters.sandbox_checker import SandboxStrategyChecker
from zquant_backtest.adapters.sqlalchemy import tables
from zquant_backtest.adapters.sqlalchemy.unit_of_work import SqlAlchemyBacktestUnitOfWork
from zquant_backtest.application.strategies import StrategyUseCases
from zquant_backtest.application.unit_of_work_ports import UnitOfWorkFactory
from zquant_backtest.application.validation_ports import StrategyChecker
from zquant_backtest.bootstrap import tasks
from zquant_backtest.bootstrap.adapters import BacktestAdapters, production_adapters
from zquant_backtest.bootstrap.config import NAME, BacktestConfig
from zquant_backtest.bootstrap.tasks import TaskComponents, TaskPorts
from zquant_kit.clock import SystemClock
from zquant_kit.events.model import EventBus
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.grpc.server import GrpcService
from zquant_kit.grpc.wiring import auth_interceptor, remote_caller_checks
from zquant_kit.infrastructure import Infrastructure, OnInfrastructure
from zquant_kit.service import ServiceDefinition

__all__ = ["SERVICE", "BacktestAdapters", "BacktestApp", "BacktestConfig", "build"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@dataclass
class BacktestApp(OnInfrastructure):
    """What `build` returns: the runner serves `grpc_services` behind `interceptors` and starts and stops
    `infra`; tests use these same fields."""

    config: BacktestConfig
    infra: Infrastructure
    strategies: StrategyUseCases
    tasks: TaskComponents
    unit_of_work: UnitOfWorkFactory
    grpc_services: list[GrpcService]
    interceptors: list[AuthInterceptor]
    name: str = NAME


def _warm_sandbox_probe(infra: Infrastructure, checker: StrategyChecker) -> None:
    """The layer probe starts a child once; done at start, off the loop, not in the first GetSandboxInfo."""

    async def probe() -> None:
        await asyncio.to_thread(checker.layers)

    infra.on_start(probe)


def build(config: BacktestConfig, bus: EventBus, adapters: BacktestAdapters) -> BacktestApp:
    infra = Infrastructure(config.kit, tables.SCHEMA, tables.outbox, bus)
    interceptor = auth_interceptor(
        infra, remote_caller_checks(infra), audit_target_fields=AUDIT_TARGET_FIELDS
    )
    clock = SystemClock()

    unit_of_work = infra.units_of_work(SqlAlchemyBacktestUnitOfWork)
    checker = SandboxStrategyChecker()
    templates = adapters.template_catalog(config, infra)
    ports = TaskPorts(
        executor=adapters.executor(config, infra),
        market=adapters.market_catalog(config, infra),
        renderer=adapters.report_renderer(config, infra),
        templates=templates,
        checker=checker,
    )
    strategies = StrategyUseCases(unit_of_work, checker, templates, clock)
    services = [
        GrpcService(
            "zquant.backtest.v1.StrategyService",
            StrategyServicer(strategies),
            strategy_pb2_grpc.add_StrategyServiceServicer_to_server,
        )
    ]
    _warm_sandbox_probe(infra, checker)
    return BacktestApp(
        config=config,
        infra=infra,
        strategies=strategies,
        tasks=tasks.wire(infra, config.jobs, config.policy, clock, unit_of_work, ports, services),
        unit_of_work=unit_of_work,
        grpc_services=services,
        interceptors=[interceptor],
    )


def definition(adapters: BacktestAdapters | None = None) -> ServiceDefinition:
    """The service with these adapters (tests), or with the production ones when the runner bootstraps it."""

    def built(config: BacktestConfig, bus: EventBus) -> BacktestApp:
        return build(config, bus, adapters or production_adapters())

    return ServiceDefinition.composed(NAME, tables.SCHEMA, MIGRATIONS, BacktestConfig.from_settings, built)


SERVICE = definition()
