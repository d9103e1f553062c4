"""sync area wiring: the source selector, the secrets box, the sync and validation use cases and the SyncService
servicer (environment: `config`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zquant.marketdata.v1 import sync_pb2_grpc
from zquant_kit.grpc.server import GrpcService
from zquant_kit.infrastructure import Infrastructure
from zquant_marketdata.adapters.grpc.sync_servicer import SERVICE_NAME, SyncServicer
from zquant_marketdata.adapters.secrets import token_box
from zquant_marketdata.adapters.source_selector import SourceSelector
from zquant_marketdata.adapters.sqlalchemy.sync_repository import SqlAlchemySyncRepository
from zquant_marketdata.adapters.sqlalchemy.validation_result_repository import SqlAlchemyValidationResults
from zquant_marketdata.application.bar_store_port import BarStore
from zquant_marketdata.application.source_config import SourceConfigUseCases
from zquant_marketdata.application.sync import SyncUseCases
from zquant_marketdata.application.sync_ports import Clock
from zquant_marketdata.application.validate import ValidateUseCases
from zquant_marketdata.application.validation_replay import RepeatableValidation
from zquant_marketdata.bootstrap.config import MarketDataConfig


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
    sources = SourceSelector(
        source_config,
        source=config.source,
        sample=config.sample,
        csv_dir=config.csv_dir,
        sync_start_date=config.sync_start_date,
    )
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
