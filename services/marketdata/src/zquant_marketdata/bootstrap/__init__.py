"""Composition root of the marketdata service.

`MarketDataApp` holds what every area shares (engine, outbox relay, bar store, auth); each area
(queries, sync, watchlist) wires its own use cases and servicers in `bootstrap/<area>.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Awaitable, Callable

from zquant_kit import telemetry
from zquant_kit.clock import SystemClock
from zquant_kit.events.model import EventBus
from zquant_kit.grpc.server import GrpcService
from zquant_kit.grpc.wiring import identity_backed_auth
from zquant_kit.persistence.engine import create_engine, is_sqlite, session_factory
from zquant_kit.persistence.outbox import OutboxRelay
from zquant_kit.service import ServiceDefinition
from zquant_kit.settings import Settings
from zquant_marketdata.adapters.grpc.audit_targets import AUDIT_TARGET_FIELDS
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.bulk_bar_store import PostgresBulkBarStore, SqliteBulkBarStore

NAME = "marketdata"


class MarketDataApp:
    name = NAME

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
        self.grpc_services: list[GrpcService] = []
        self._on_start: list[Callable[[], Awaitable[None]]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []

        from zquant_marketdata.bootstrap import queries, sync, watchlist

        queries.wire(self)
        sync.wire(self)
        watchlist.wire(self)

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
