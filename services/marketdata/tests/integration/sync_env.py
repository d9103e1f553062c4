"""Sync use cases over a freshly migrated marketdata database, SQLite or PostgreSQL, for the
integration tests parametrised over both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from zquant_kit.clock import Clock
from zquant_kit.persistence.engine import create_engine, session_factory
from zquant_kit.runner import upgrade_all
from zquant_kit.service import discover
from zquant_kit.settings import Settings
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.bulk_bar_store import PostgresBulkBarStore, SqliteBulkBarStore
from zquant_marketdata.bootstrap.config import MarketDataConfig
from zquant_marketdata.bootstrap.sync import SyncComponents, build


@asynccontextmanager
async def sync_components(values: Mapping[str, str], clock: Clock) -> AsyncIterator[tuple[SyncComponents, object]]:
    """(components, engine) over the migrated database `values` names; shut down and disposed after."""
    settings = Settings(dict(values))
    await upgrade_all([discover()["marketdata"]], settings)
    engine = create_engine(settings.database_url("marketdata"), tables.SCHEMA)
    sqlite = engine.dialect.name == "sqlite"
    store = SqliteBulkBarStore(engine) if sqlite else PostgresBulkBarStore(engine)
    components = build(MarketDataConfig.from_settings(settings), engine, session_factory(engine), store, clock)
    try:
        yield components, engine
    finally:
        await components.sync.shutdown()
        await engine.dispose()
