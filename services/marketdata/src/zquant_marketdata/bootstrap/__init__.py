"""Composition root of the marketdata service.

`build` takes the `MarketDataConfig` that `bootstrap` (the runner's entry) and the CLI read once, builds the
kit's `Infrastructure` and what every area shares (bar store, clock, auth), lets each area (queries, sync,
watchlist) wire its use cases and servicer in `bootstrap/<area>.py`, and returns the declared `MarketDataApp`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zquant_kit.clock import SystemClock
from zquant_kit.events.model import EventBus
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.grpc.server import GrpcService
from zquant_kit.grpc.wiring import auth_interceptor, remote_caller_checks
from zquant_kit.infrastructure import Infrastructure, OnInfrastructure
from zquant_kit.service import ServiceDefinition
from zquant_marketdata.adapters.grpc.audit_targets import AUDIT_TARGET_FIELDS
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.bulk_bar_store import PostgresBulkBarStore, SqliteBulkBarStore
from zquant_marketdata.application.bar_store_port import BarStore
from zquant_marketdata.application.queries import MarketQueries
from zquant_marketdata.application.sync import SyncUseCases
from zquant_marketdata.application.watchlist import WatchlistUseCases
from zquant_marketdata.bootstrap import queries, sync, watchlist
from zquant_marketdata.bootstrap.config import NAME, MarketDataConfig
from zquant_marketdata.bootstrap.sync import SyncComponents

__all__ = ["SERVICE", "MarketDataApp", "MarketDataConfig", "build"]


@dataclass
class MarketDataApp(OnInfrastructure):
    """What `build` returns: the runner serves `grpc_services` behind `interceptors` and starts and stops
    `infra`; tests use these same fields."""

    config: MarketDataConfig
    infra: Infrastructure
    clock: SystemClock
    bar_store: BarStore
    market_queries: MarketQueries
    sync_components: SyncComponents
    watchlist: WatchlistUseCases
    grpc_services: list[GrpcService]
    interceptors: list[AuthInterceptor]
    name: str = NAME

    @property
    def sync(self) -> SyncUseCases:
        return self.sync_components.sync


def build(config: MarketDataConfig, bus: EventBus) -> MarketDataApp:
    infra = Infrastructure(config.kit, tables.SCHEMA, tables.outbox, bus)
    interceptor = auth_interceptor(infra, remote_caller_checks(infra), audit_target_fields=AUDIT_TARGET_FIELDS)
    clock = SystemClock()
    bar_store: BarStore = (
        SqliteBulkBarStore(infra.engine) if config.kit.on_sqlite else PostgresBulkBarStore(infra.engine)
    )
    services: list[GrpcService] = []
    return MarketDataApp(
        config=config,
        infra=infra,
        clock=clock,
        bar_store=bar_store,
        market_queries=queries.wire(infra, config.heavy_reads, services),
        sync_components=sync.wire(infra, config, bar_store, clock, services),
        watchlist=watchlist.wire(infra, clock, services),
        grpc_services=services,
        interceptors=[interceptor],
    )


SERVICE = ServiceDefinition.composed(
    NAME, tables.SCHEMA, Path(__file__).resolve().parent.parent / "migrations", MarketDataConfig.from_settings, build
)
