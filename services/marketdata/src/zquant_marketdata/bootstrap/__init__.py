"""Composition root of the marketdata service.

`MarketDataApp` holds what every area shares (engine, outbox relay, bar store, auth); each area
(queries, sync, watchlist) wires its own use cases and servicers in `bootstrap/<area>.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zquant_kit import telemetry
from zquant_kit.clock import SystemClock
from zquant_kit.events.model import EventBus
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.grpc.server import GrpcService
from zquant_kit.grpc.wiring import IdentityBackedAuth, identity_backed_auth
from zquant_kit.persistence.engine import create_engine, is_sqlite, session_factory
from zquant_kit.persistence.outbox import OutboxRelay
from zquant_kit.service import ServiceApp, ServiceDefinition
from zquant_kit.settings import Settings
from zquant_marketdata.adapters.grpc.audit_targets import AUDIT_TARGET_FIELDS
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.bulk_bar_store import PostgresBulkBarStore, SqliteBulkBarStore
from zquant_marketdata.application.bar_store_port import BarStore
from zquant_marketdata.application.queries import MarketQueries
from zquant_marketdata.application.watchlist import WatchlistUseCases

if TYPE_CHECKING:
    from zquant_marketdata.application.sync import SyncUseCases
    from zquant_marketdata.bootstrap.sync import SyncComponents

NAME = "marketdata"


class MarketDataApp(ServiceApp):
    """What `bootstrap` returns. Every attribute is declared here; each area's `wire` returns what it
    built and registers its servicer and start/stop hooks, and tests use these same attributes."""

    name: str = NAME
    settings: Settings
    bus: EventBus
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    clock: SystemClock
    bar_store: BarStore
    identity_auth: IdentityBackedAuth
    interceptors: list[AuthInterceptor]
    grpc_services: list[GrpcService]
    market_queries: MarketQueries
    sync_components: SyncComponents
    sync: SyncUseCases
    watchlist: WatchlistUseCases

    def __init__(self, settings: Settings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus
        url = settings.database_url(NAME)
        self.engine = create_engine(url, tables.SCHEMA)
        telemetry.instrument_engine(self.engine, settings.otel_exporter != "none")
        self.sessions = session_factory(self.engine)
        self.relay = OutboxRelay(self.sessions, tables.outbox, bus, poll_seconds=settings.outbox_poll_seconds)
        self.clock = SystemClock()
        self.bar_store = SqliteBulkBarStore(self.engine) if is_sqlite(url) else PostgresBulkBarStore(self.engine)
        self.identity_auth = identity_backed_auth(
            NAME, settings, self.sessions, tables.outbox, self.relay.wake, audit_target_fields=AUDIT_TARGET_FIELDS
        )
        self.interceptors = [self.identity_auth.interceptor]
        self.grpc_services = []
        self._on_start: list[Callable[[], Awaitable[None]]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []

        from zquant_marketdata.bootstrap import queries, sync, watchlist

        self.market_queries = queries.wire(self)
        self.sync_components = sync.wire(self)
        self.sync = self.sync_components.sync
        self.watchlist = watchlist.wire(self)

    def on_start(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._on_start.append(hook)

    def on_stop(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._on_stop.append(hook)

    async def start(self) -> None:
        await self.identity_auth.start(self.bus)
        for hook in self._on_start:
            await hook()
        self.relay.start()

    async def stop(self) -> None:
        for hook in reversed(self._on_stop):
            await hook()
        await self.relay.stop()
        await self.identity_auth.stop()
        await self.engine.dispose()


async def bootstrap(settings: Settings, bus: EventBus) -> MarketDataApp:
    return MarketDataApp(settings, bus)


SERVICE = ServiceDefinition(
    name=NAME,
    schema=tables.SCHEMA,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    bootstrap=bootstrap,
)
