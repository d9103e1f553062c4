"""sync area wiring: which source a run uses, the secrets box, the SyncService servicer (environment: `config`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zquant.marketdata.v1 import sync_pb2_grpc
from zquant_kit.dates import parse_optional_yyyymmdd, parse_yyyymmdd
from zquant_kit.errors import FailedPrecondition
from zquant_kit.grpc.server import GrpcService
from zquant_kit.infrastructure import Infrastructure
from zquant_marketdata.adapters.csv_source import CsvDirectorySource
from zquant_marketdata.adapters.grpc.sync_servicer import SERVICE_NAME, SyncServicer
from zquant_marketdata.adapters.sample_source import SampleMarketSource
from zquant_marketdata.adapters.secrets import token_box
from zquant_marketdata.adapters.sqlalchemy.sync_repository import SqlAlchemySyncRepository
from zquant_marketdata.adapters.sqlalchemy.validation_result_repository import SqlAlchemyValidationResults
from zquant_marketdata.adapters.tushare.source import TushareMarketDataSource, TushareSettings
from zquant_marketdata.application.bar_store_port import BarStore
from zquant_marketdata.application.source_config import SourceConfigUseCases
from zquant_marketdata.application.source_selection import choose_kind, configured_kind, needs_token
from zquant_marketdata.application.sync import SyncUseCases
from zquant_marketdata.application.sync_engine import DEFAULT_START
from zquant_marketdata.application.sync_ports import Clock, SourceChoice
from zquant_marketdata.application.validate import ValidateUseCases
from zquant_marketdata.application.validation_replay import RepeatableValidation
from zquant_marketdata.bootstrap.config import MarketDataConfig
from zquant_marketdata.domain.sync import parse_date


class SourceSelector:
    """`SourceProvider`: resolves the source at the start of each run, so SetSourceConfig takes
    effect without a restart. Sources are cached per configuration (the sample is generated once)."""

    def __init__(self, app_config: MarketDataConfig, config: SourceConfigUseCases) -> None:
        self._app_config = app_config
        self._config = config
        self._sample: SampleMarketSource | None = None
        self._csv: CsvDirectorySource | None = None
        self._tushare: tuple[str, TushareMarketDataSource] | None = None
        self._kind = configured_kind(app_config.source)

    async def current(self) -> SourceChoice:
        token = await self._config.token() if needs_token(self._kind) else ""
        kind = choose_kind(self._kind, token)
        if kind == "sample":
            if self._sample is None:
                self._sample = SampleMarketSource(self._app_config.sample)
            first = parse_yyyymmdd(self._sample.first_day)
            return SourceChoice(self._sample, "sample", first)
        if kind == "csv":
            if self._csv is None:
                directory = self._app_config.csv_dir
                if not directory:
                    raise FailedPrecondition("ZQUANT_MARKETDATA_SOURCE=csv needs ZQUANT_MARKETDATA_CSV_DIR")
                self._csv = CsvDirectorySource(directory)
            return SourceChoice(self._csv, "csv", parse_optional_yyyymmdd(self._csv.first_day))
        config = await self._config.get()
        fingerprint = hashlib.sha256(f"{token}\n{config.base_url}\n{config.calls_per_minute}".encode()).hexdigest()
        if self._tushare is None or self._tushare[0] != fingerprint:
            source = TushareMarketDataSource(
                TushareSettings(token=token, base_url=config.base_url, calls_per_minute=config.calls_per_minute)
            )
            self._tushare = (fingerprint, source)
        tushare_start = parse_date(self._app_config.sync_start_date, "ZQUANT_SYNC_START_DATE") or DEFAULT_START
        return SourceChoice(self._tushare[1], "tushare", tushare_start)


@dataclass
class SyncComponents:
    repository: SqlAlchemySyncRepository
    config: SourceConfigUseCases
    sources: SourceSelector
    sync: SyncUseCases
    validate: ValidateUseCases
    repeatable_validation: RepeatableValidation


def build(
    config: MarketDataConfig,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    bar_store: BarStore,
    clock: Clock,
    wake_outbox: Callable[[], None] | None = None,
) -> SyncComponents:
    repository = SqlAlchemySyncRepository(engine, sessions, wake_outbox)
    source_config = SourceConfigUseCases(
        repository,
        token_box(config.kit.data_dir, config.token_key),
        clock,
        default_base_url=config.tushare.base_url,
        default_calls_per_minute=config.tushare.calls_per_minute,
        env_token=config.tushare.token,
    )
    sources = SourceSelector(config, source_config)
    sync = SyncUseCases(
        repository, bar_store, sources, clock, batch_days=config.sync_batch_days
    )
    validate = ValidateUseCases(repository, bar_store, sources, clock)
    repeatable = RepeatableValidation(validate, SqlAlchemyValidationResults(sessions), clock)
    return SyncComponents(repository, source_config, sources, sync, validate, repeatable)


def wire(
    infra: Infrastructure, config: MarketDataConfig, bar_store: BarStore, clock: Clock, services: list[GrpcService]
) -> SyncComponents:
    components = build(config, infra.engine, infra.sessions, bar_store, clock, infra.relay.wake)
    services.append(
        GrpcService(
            SERVICE_NAME,
            SyncServicer(components.sync, components.repeatable_validation, components.config),
            sync_pb2_grpc.add_SyncServiceServicer_to_server,
        )
    )
    infra.on_start(components.sync.recover)
    infra.on_start(components.sync.keep_sweeping)
    infra.on_stop(components.sync.shutdown)
    return components
