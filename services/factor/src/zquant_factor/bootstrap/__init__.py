"""Composition root of the factor service.

`FactorApp` holds what every area shares (engine, outbox relay, auth, clock); each area wires its own use
cases and servicers in `bootstrap/<area>.py`. `AREAS` lists them in wiring order: the calculation area
(jobs, ComputeIndicators, analysis) plugs in by adding its `wire` there, or a caller passes its own `areas`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zquant_factor.adapters.grpc.audit_targets import AUDIT_TARGET_FIELDS
from zquant_factor.adapters.sqlalchemy import tables
from zquant_factor.adapters.sqlalchemy.state_store import SqlAlchemyIndicatorStateStore
from zquant_factor.adapters.sqlalchemy.value_store import PostgresFactorValueStore, SqliteFactorValueStore
from zquant_factor.application.definitions import DefinitionUseCases
from zquant_factor.application.factor_models import FactorModelUseCases
from zquant_factor.application.model_resolution import ModelResolution
from zquant_factor.bootstrap import definitions, values
from zquant_factor.bootstrap.settings import NAME, FactorSettings
from zquant_kit import telemetry
from zquant_kit.clock import SystemClock
from zquant_kit.events.model import EventBus
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.grpc.server import GrpcService
from zquant_kit.grpc.wiring import IdentityBackedAuth, identity_backed_auth
from zquant_kit.persistence.engine import create_engine, session_factory
from zquant_kit.persistence.outbox import OutboxRelay
from zquant_kit.service import ServiceApp, ServiceDefinition
from zquant_kit.settings import Settings

Area = Callable[["FactorApp"], None]
AREAS: list[Area] = [values.wire, definitions.wire]
"""Each area's `wire(app)`: it sets the attributes it owns, appends its servicers to `app.grpc_services`
and registers its start/stop hooks."""


class FactorApp(ServiceApp):
    """What `bootstrap` returns. Every attribute is declared here; tests use these same attributes."""

    name: str = NAME
    settings: Settings
    config: FactorSettings
    bus: EventBus
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    clock: SystemClock
    identity_auth: IdentityBackedAuth
    interceptors: list[AuthInterceptor]
    grpc_services: list[GrpcService]
    values: PostgresFactorValueStore | SqliteFactorValueStore
    states: SqlAlchemyIndicatorStateStore
    definitions: DefinitionUseCases
    models: FactorModelUseCases
    resolution: ModelResolution

    def __init__(self, settings: Settings, bus: EventBus, areas: Sequence[Area] | None = None) -> None:
        self.settings = settings
        self.config = FactorSettings.of(settings)
        self.bus = bus
        self.engine = create_engine(self.config.database_url, tables.SCHEMA)
        telemetry.instrument_engine(self.engine, self.config.tracing)
        self.sessions = session_factory(self.engine)
        self.relay = OutboxRelay(
            self.sessions, tables.outbox, bus, poll_seconds=self.config.outbox_poll_seconds
        )
        self.clock = SystemClock()
        self.identity_auth = identity_backed_auth(
            NAME,
            settings,
            self.sessions,
            tables.outbox,
            self.relay.wake,
            audit_target_fields=AUDIT_TARGET_FIELDS,
        )
        self.interceptors = [self.identity_auth.interceptor]
        self.grpc_services = []
        self._on_start: list[Callable[[], Awaitable[None]]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self._running = contextlib.AsyncExitStack()
        for wire in AREAS if areas is None else areas:
            wire(self)

    def on_start(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._on_start.append(hook)

    def on_stop(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._on_stop.append(hook)

    async def start(self) -> None:
        """Identity auth, then the areas' hooks, then the relay; `stop` undoes whatever of it ran, in reverse."""
        await self.identity_auth.start(self.bus)
        self._running.push_async_callback(self.identity_auth.stop)
        for stop in self._on_stop:
            self._running.push_async_callback(stop)
        for hook in self._on_start:
            await hook()
        self.relay.start()
        self._running.push_async_callback(self.relay.stop)

    async def stop(self) -> None:
        try:
            await self._running.aclose()
        finally:
            await self.engine.dispose()


async def bootstrap(settings: Settings, bus: EventBus) -> FactorApp:
    return FactorApp(settings, bus)


SERVICE = ServiceDefinition(
    name=NAME,
    schema=tables.SCHEMA,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    bootstrap=bootstrap,
)
