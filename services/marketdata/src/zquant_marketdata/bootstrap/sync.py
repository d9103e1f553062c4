"""sync area wiring: which source a run uses, the secrets box, the SyncService servicer.

Environment (all optional):

| variable | meaning |
|---|---|
| `ZQUANT_MARKETDATA_SOURCE` | `tushare`, `sample` or `csv`; default `tushare` when a token is configured (SetSourceConfig or `TUSHARE_TOKEN`), else `sample` |
| `TUSHARE_TOKEN` | Tushare token used when none was set through SetSourceConfig |
| `ZQUANT_TUSHARE_BASE_URL` / `ZQUANT_TUSHARE_CALLS_PER_MINUTE` | defaults of the source configuration |
| `ZQUANT_SAMPLE_STOCKS` / `ZQUANT_SAMPLE_YEARS` / `ZQUANT_SAMPLE_DAYS` / `ZQUANT_SAMPLE_SEED` | size of the sample market (300 stocks, 5 years ending 2024-12-31) |
| `ZQUANT_MARKETDATA_CSV_DIR` | directory of Tushare-schema CSVs for the `csv` source |
| `ZQUANT_MARKETDATA_SECRET_KEY` | Fernet key encrypting the token at rest; else `<ZQUANT_DATA_DIR>/marketdata.key` (0600) |
| `ZQUANT_SYNC_START_DATE` | where a first sync without start_date begins for Tushare (YYYYMMDD, default 20190101) |
| `ZQUANT_SYNC_BATCH_DAYS` | trade days per store write (default 20) |
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zquant.marketdata.v1 import sync_pb2_grpc
from zquant_kit.dates import parse_optional_yyyymmdd, parse_yyyymmdd
from zquant_kit.errors import FailedPrecondition
from zquant_kit.grpc.server import GrpcService
from zquant_kit.settings import Settings
from zquant_marketdata.adapters.csv_source import CsvDirectorySource
from zquant_marketdata.adapters.grpc.sync_servicer import SERVICE_NAME, SyncServicer
from zquant_marketdata.adapters.sample_source import SampleMarketSource
from zquant_marketdata.adapters.secrets import token_box
from zquant_marketdata.adapters.sqlalchemy.sync_repository import SqlAlchemySyncRepository
from zquant_marketdata.adapters.tushare.source import (
    DEFAULT_BASE_URL,
    TushareMarketDataSource,
    TushareSettings,
)
from zquant_marketdata.application.bar_store_port import BarStore
from zquant_marketdata.application.source_config import SourceConfigUseCases
from zquant_marketdata.application.source_selection import choose_kind, configured_kind, needs_token
from zquant_marketdata.application.sync import SyncUseCases
from zquant_marketdata.application.sync_engine import DEFAULT_START
from zquant_marketdata.application.sync_ports import Clock, SourceChoice
from zquant_marketdata.application.validate import ValidateUseCases
from zquant_marketdata.domain.sample_market import DEFAULT_SEED, SampleSpec
from zquant_marketdata.domain.sync import parse_date

if TYPE_CHECKING:
    from zquant_marketdata.bootstrap import MarketDataApp


def sample_spec(settings: Settings) -> SampleSpec:
    days = settings.get("ZQUANT_SAMPLE_DAYS")
    return SampleSpec(
        stocks=int(settings.get("ZQUANT_SAMPLE_STOCKS") or 300),
        years=float(settings.get("ZQUANT_SAMPLE_YEARS") or 5),
        days=int(days) if days else None,
        seed=int(settings.get("ZQUANT_SAMPLE_SEED") or DEFAULT_SEED),
    )


class SourceSelector:
    """`SourceProvider`: resolves the source at the start of each run, so SetSourceConfig takes
    effect without a restart. Sources are cached per configuration (the sample is generated once)."""

    def __init__(self, settings: Settings, config: SourceConfigUseCases) -> None:
        self._settings = settings
        self._config = config
        self._sample: SampleMarketSource | None = None
        self._csv: CsvDirectorySource | None = None
        self._tushare: tuple[str, TushareMarketDataSource] | None = None
        self._kind = configured_kind(settings.get("ZQUANT_MARKETDATA_SOURCE"))

    async def current(self) -> SourceChoice:
        token = await self._config.token() if needs_token(self._kind) else ""
        kind = choose_kind(self._kind, token)
        if kind == "sample":
            if self._sample is None:
                self._sample = SampleMarketSource(sample_spec(self._settings))
            first = parse_yyyymmdd(self._sample.first_day)
            return SourceChoice(self._sample, "sample", first)
        if kind == "csv":
            if self._csv is None:
                directory = self._settings.get("ZQUANT_MARKETDATA_CSV_DIR")
                if not directory:
                    raise FailedPrecondition("ZQUANT_MARKETDATA_SOURCE=csv needs ZQUANT_MARKETDATA_CSV_DIR")
                self._csv = CsvDirectorySource(directory)
            first = self._csv.first_day
            return SourceChoice(self._csv, "csv", parse_optional_yyyymmdd(first))
        config = await self._config.get()
        fingerprint = hashlib.sha256(f"{token}\n{config.base_url}\n{config.calls_per_minute}".encode()).hexdigest()
        if self._tushare is None or self._tushare[0] != fingerprint:
            source = TushareMarketDataSource(
                TushareSettings(token=token, base_url=config.base_url, calls_per_minute=config.calls_per_minute)
            )
            self._tushare = (fingerprint, source)
        start = parse_date(self._settings.get("ZQUANT_SYNC_START_DATE"), "ZQUANT_SYNC_START_DATE") or DEFAULT_START
        return SourceChoice(self._tushare[1], "tushare", start)


@dataclass
class SyncComponents:
    repository: SqlAlchemySyncRepository
    config: SourceConfigUseCases
    sources: SourceSelector
    sync: SyncUseCases
    validate: ValidateUseCases


def build(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    bar_store: BarStore,
    clock: Clock,
    wake_outbox: Callable[[], None] | None = None,
) -> SyncComponents:
    repository = SqlAlchemySyncRepository(engine, sessions, wake_outbox)
    config = SourceConfigUseCases(
        repository,
        token_box(settings),
        clock,
        default_base_url=settings.get("ZQUANT_TUSHARE_BASE_URL") or DEFAULT_BASE_URL,
        default_calls_per_minute=float(settings.get("ZQUANT_TUSHARE_CALLS_PER_MINUTE") or 200.0),
        env_token=settings.get("TUSHARE_TOKEN"),
    )
    sources = SourceSelector(settings, config)
    sync = SyncUseCases(
        repository, bar_store, sources, clock, batch_days=int(settings.get("ZQUANT_SYNC_BATCH_DAYS") or 20)
    )
    validate = ValidateUseCases(repository, bar_store, sources, clock)
    return SyncComponents(repository, config, sources, sync, validate)


def wire(app: MarketDataApp) -> SyncComponents:
    components = build(app.settings, app.engine, app.sessions, app.bar_store, app.clock, app.relay.wake)
    app.grpc_services.append(
        GrpcService(
            SERVICE_NAME,
            SyncServicer(components.sync, components.validate, components.config),
            sync_pb2_grpc.add_SyncServiceServicer_to_server,
        )
    )
    app.on_start(components.sync.recover)
    app.on_start(components.sync.keep_sweeping)
    app.on_stop(components.sync.shutdown)
    return components
