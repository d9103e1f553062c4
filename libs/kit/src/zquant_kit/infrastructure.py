"""What every service runs on: its kit settings parsed once, its engine, sessions and outbox relay, and the
start and stop hooks its areas add, run in one order for every service.

A bootstrap parses `ServiceConfig` (inside its own typed config), builds one `Infrastructure`, registers what
its areas start and stop, and its app's `start`/`stop` are this object's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zquant_kit import telemetry
from zquant_kit.events.model import EventBus, EventHandler
from zquant_kit.persistence.engine import create_engine, is_sqlite, session_factory
from zquant_kit.persistence.outbox import OutboxRelay
from zquant_kit.persistence.unit_of_work import SqlAlchemyUnitOfWork
from zquant_kit.service_credential import load_service_secret
from zquant_kit.settings import Settings

Hook = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ServiceConfig:
    """The kit's settings one service needs, read once from the environment (`from_settings`)."""

    name: str
    database_url: str
    data_dir: Path
    tracing: bool
    outbox_poll_seconds: float
    jwt_issuer: str
    jwt_audience: str
    identity_address: str
    service_secret: str

    @classmethod
    def from_settings(cls, name: str, settings: Settings) -> ServiceConfig:
        return cls(
            name=name,
            database_url=settings.database_url(name),
            data_dir=settings.data_dir,
            tracing=settings.otel_exporter != "none",
            outbox_poll_seconds=settings.outbox_poll_seconds,
            jwt_issuer=settings.jwt_issuer,
            jwt_audience=settings.jwt_audience,
            identity_address=settings.address("identity"),
            service_secret=load_service_secret(settings),
        )

    @property
    def on_sqlite(self) -> bool:
        return is_sqlite(self.database_url)


UnitOfWorkKind = TypeVar("UnitOfWorkKind", bound=SqlAlchemyUnitOfWork)


class Infrastructure:
    """One service's engine, sessions and outbox relay. `start` runs the start hooks in the order they were
    added, then starts the relay; `stop` runs the stop hooks in reverse, then stops the relay and the engine."""

    def __init__(self, config: ServiceConfig, schema: str, outbox: Table, bus: EventBus) -> None:
        self.config = config
        self.bus = bus
        self.outbox = outbox
        self.engine: AsyncEngine = create_engine(config.database_url, schema)
        telemetry.instrument_engine(self.engine, config.tracing)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.relay = OutboxRelay(self.sessions, outbox, bus, poll_seconds=config.outbox_poll_seconds)
        self._on_start: list[Hook] = []
        self._on_stop: list[Hook] = []

    def on_start(self, hook: Hook) -> None:
        self._on_start.append(hook)

    def on_stop(self, hook: Hook) -> None:
        self._on_stop.append(hook)

    def units_of_work(self, kind: type[UnitOfWorkKind]) -> Callable[[], UnitOfWorkKind]:
        """The factory of one kind of the service's units of work: each on these sessions, its events written to
        this outbox, the relay woken when it commits."""

        def unit_of_work() -> UnitOfWorkKind:
            return kind(self.sessions, self.outbox, self.relay.wake)

        return unit_of_work

    def subscribe(self, consumer: str, pattern: str, handler: EventHandler) -> None:
        """A durable consumer, subscribed when the service starts (after the hooks added before it)."""

        async def subscribe() -> None:
            await self.bus.subscribe(consumer, pattern, handler)

        self.on_start(subscribe)

    async def start(self) -> None:
        for hook in self._on_start:
            await hook()
        self.relay.start()

    async def stop(self) -> None:
        for hook in reversed(self._on_stop):
            await hook()
        await self.relay.stop()
        await self.engine.dispose()


class OnInfrastructure:
    """Base of a service's app dataclass that has an `infra` field: the engine and sessions it exposes, and
    the `start`/`stop` the runner calls, are its infrastructure's."""

    infra: Infrastructure

    @property
    def engine(self) -> AsyncEngine:
        return self.infra.engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.infra.sessions

    async def start(self) -> None:
        await self.infra.start()

    async def stop(self) -> None:
        await self.infra.stop()
