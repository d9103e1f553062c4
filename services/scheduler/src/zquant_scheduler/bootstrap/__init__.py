"""Composition root of the scheduler service.

`build` takes the `SchedulerConfig` that `bootstrap` (the runner's entry) reads once, builds the kit's
`Infrastructure`, the unit of work, the use cases, the scheduling loop (claims, executor, lease keeper) and the
servicer, and returns the `SchedulerApp`. Runs act for their owner through identity's owner tokens
(`zquant_kit.delegation`). Tests pass their own `owner_tokens`, `targets` and `calendars`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zquant.scheduler.v1 import scheduler_pb2_grpc
from zquant_kit.clock import Clock, SystemClock
from zquant_kit.delegation import OwnerTokens
from zquant_kit.events.model import EventBus
from zquant_kit.grpc.delegation_client import IdentityOwnerTokens
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.grpc.server import GrpcService
from zquant_kit.grpc.wiring import auth_interceptor, remote_caller_checks, service_channel
from zquant_kit.infrastructure import Infrastructure, OnInfrastructure
from zquant_kit.service import ServiceDefinition
from zquant_kit.tasks import BackgroundLoop
from zquant_scheduler.adapters.config_checker import ProtoConfigChecker
from zquant_scheduler.adapters.grpc.audit_targets import AUDIT_TARGET_FIELDS
from zquant_scheduler.adapters.grpc.scheduler_servicer import SchedulerServicer
from zquant_scheduler.adapters.grpc_targets import GrpcJobTargets
from zquant_scheduler.adapters.sqlalchemy import tables
from zquant_scheduler.adapters.sqlalchemy.unit_of_work import SqlAlchemySchedulerUnitOfWork
from zquant_scheduler.adapters.trade_calendar import MarketdataTradeCalendars
from zquant_scheduler.application.claiming import RunClaims
from zquant_scheduler.application.execution import RunExecutor
from zquant_scheduler.application.job_ports import JobTargets, Lease, TradeCalendars
from zquant_scheduler.application.jobs import USER_CLEANUP_CONSUMER, USER_DELETED, JobUseCases
from zquant_scheduler.application.run_writer import RunWriter
from zquant_scheduler.application.runs import RunUseCases
from zquant_scheduler.application.scheduling_loop import SchedulingLoop
from zquant_scheduler.bootstrap.config import NAME, SchedulerConfig

__all__ = ["SERVICE", "SchedulerApp", "SchedulerConfig", "build"]


@dataclass
class SchedulerApp(OnInfrastructure):
    config: SchedulerConfig
    infra: Infrastructure
    unit_of_work: Callable[[], SqlAlchemySchedulerUnitOfWork]
    jobs: JobUseCases
    runs: RunUseCases
    claims: RunClaims
    loop: SchedulingLoop
    grpc_services: list[GrpcService]
    interceptors: list[AuthInterceptor]
    name: str = NAME


def build(
    config: SchedulerConfig,
    bus: EventBus,
    *,
    owner_tokens: OwnerTokens | None = None,
    targets: JobTargets | None = None,
    calendars: TradeCalendars | None = None,
    clock: Clock | None = None,
) -> SchedulerApp:
    infra = Infrastructure(config.kit, tables.SCHEMA, tables.outbox, bus)
    interceptor = auth_interceptor(infra, remote_caller_checks(infra), audit_target_fields=AUDIT_TARGET_FIELDS)
    clock = clock or SystemClock()

    unit_of_work = infra.units_of_work(SqlAlchemySchedulerUnitOfWork)
    if targets is None or calendars is None:
        marketdata = service_channel(infra, config.marketdata_address)
        targets = targets or GrpcJobTargets(
            marketdata,
            service_channel(infra, config.factor_address),
            service_channel(infra, config.backtest_address),
        )
        calendars = calendars or MarketdataTradeCalendars(marketdata, config.kit.service_secret)
    if owner_tokens is None:
        identity = service_channel(infra, config.kit.identity_address)
        owner_tokens = IdentityOwnerTokens(identity, config.kit.service_secret, NAME)
    holder = f"{NAME}-{uuid.uuid4().hex[:12]}"
    claims = RunClaims(unit_of_work, clock, config.claims, holder)

    def lease() -> Lease:
        return claims.lease_from(clock.now())

    writer = RunWriter(unit_of_work, lease)
    executor = RunExecutor(unit_of_work, clock, targets, owner_tokens, calendars, writer)
    loop = SchedulingLoop(claims, executor, config.loop, config.claims.lease_seconds)
    jobs = JobUseCases(unit_of_work, clock, ProtoConfigChecker(), wake=loop.wake)
    runs = RunUseCases(unit_of_work, clock)
    ticking = BackgroundLoop(loop.run, "scheduler-claims")
    renewing = BackgroundLoop(loop.keep_leases, "scheduler-leases")

    async def start_loops() -> None:
        ticking.start()
        renewing.start()

    async def stop_loops() -> None:
        await ticking.stop()
        await renewing.stop()
        await loop.stop()

    infra.on_start(start_loops)
    infra.on_stop(stop_loops)
    infra.subscribe(USER_CLEANUP_CONSUMER, USER_DELETED, jobs.on_user_deleted)
    service = GrpcService(
        "zquant.scheduler.v1.SchedulerService",
        SchedulerServicer(jobs, runs),
        scheduler_pb2_grpc.add_SchedulerServiceServicer_to_server,
    )
    return SchedulerApp(config, infra, unit_of_work, jobs, runs, claims, loop, [service], [interceptor])


SERVICE = ServiceDefinition.composed(
    NAME,
    tables.SCHEMA,
    Path(__file__).resolve().parent.parent / "migrations",
    SchedulerConfig.from_settings,
    build,
)
