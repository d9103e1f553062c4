"""Ports of the sync use cases, each narrowed to one concern; one adapter may implement several."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from zquant_kit.clock import Clock as Clock  # the shared port, re-exported for this layer
from zquant_kit.persistence.blocks.counts import WriteCounts
from zquant_marketdata.application.source_port import CalendarDay, MarketDataSource, StockRecord
from zquant_marketdata.domain.sync import RunState, SyncCompleted, SyncLogEntry, SyncRun, TableStatistic


@dataclass(frozen=True, slots=True)
class StockLife:
    """When a stock was listed and delisted, as stock_basic knows it (None: unknown / still listed)."""

    list_date: dt.date | None
    delist_date: dt.date | None


@dataclass(frozen=True, slots=True)
class LastResult:
    """A dataset's most recent sync log: its result and when that run step ended."""

    result: str
    ended_at: dt.datetime


@dataclass(frozen=True, slots=True)
class LogCursor:
    """Where a page of sync logs (newest first) resumes: after this entry."""

    started_at: dt.datetime
    id: str


@dataclass(frozen=True, slots=True)
class StatisticCursor:
    """Where a page of table statistics resumes: after this (dataset, date)."""

    dataset: str
    stat_date: dt.date


class ReferenceDataWriter(Protocol):
    """The stock list and the trade calendar as a sync writes them."""

    async def upsert_stock_basic(self, rows: Sequence[StockRecord], now: dt.datetime) -> WriteCounts: ...
    async def upsert_trade_cal(self, rows: Sequence[CalendarDay]) -> WriteCounts: ...


class ReferenceDataReader(Protocol):
    """The stock list and the trade calendar as validation reads them."""

    async def open_days(self, exchange: str, start: dt.date, end: dt.date) -> list[dt.date]: ...
    async def stock_lives(self, codes: Iterable[str] | None) -> dict[str, StockLife]: ...


class RunRecords(Protocol):
    """The record of each run, as the use cases start, look up and sweep them."""

    async def create_run(self, run: SyncRun, idempotency_key: str = "") -> str:
        """Records the run and returns its id. With a key, binds (requester, key) to it in the same transaction,
        unless the key is bound already: then records nothing and returns the id of the run it is bound to."""
        ...
    async def run_for_key(self, requested_by: str, idempotency_key: str) -> SyncRun | None: ...
    async def get_run(self, run_id: str) -> SyncRun | None: ...
    async def fail_stale_runs(self, now: dt.datetime, reason: str) -> int:
        """Fails `running` runs that hold no live lease: whoever ran them is gone."""
        ...
    async def leased_runs(self, now: dt.datetime) -> list[SyncRun]:
        """`running` runs holding a live lease: executing here or in another process."""
        ...


class RunFinisher(Protocol):
    async def finish_run(
        self,
        run_id: str,
        state: RunState,
        error: str | None,
        finished_at: dt.datetime,
        completed: SyncCompleted | None = None,
    ) -> None:
        """Records the run's end; with `completed`, its `marketdata.sync.completed.v1` event goes to the
        outbox in the same transaction."""
        ...


class RuleRecordWriter(Protocol):
    """The plain tables of the rule datasets (`domain.rule_datasets.RECORD_DATASETS`)."""

    async def upsert_records(self, dataset: str, frame: pd.DataFrame) -> WriteCounts:
        """Upserts Tushare's rows by the dataset's key in one transaction, with exact counts."""
        ...


class LeaseRepository(Protocol):
    """Dataset leases: one run per dataset across all replicas."""

    async def acquire_leases(
        self, run_id: str, datasets: Sequence[str], now: dt.datetime, ttl: dt.timedelta
    ) -> str | None:
        """Atomically leases every dataset to the run, or none: returns the id of a run holding one."""
        ...
    async def renew_leases(self, run_id: str, now: dt.datetime, ttl: dt.timedelta) -> None: ...
    async def release_leases(self, run_id: str) -> None: ...


class CheckpointRepository(Protocol):
    """The last synced day of each dataset, where an incremental run resumes."""

    async def checkpoints(self) -> dict[str, dt.date]: ...
    async def advance_checkpoint(self, dataset: str, day: dt.date, run_id: str, now: dt.datetime) -> None: ...


class SyncLogWriter(Protocol):
    """One `sync_logs` row per dataset and run."""

    async def add_log(self, entry: SyncLogEntry) -> None: ...


class SyncLogReader(Protocol):
    async def list_logs(
        self, dataset: str | None, after: LogCursor | None, limit: int, run_id: str | None = None
    ) -> list[SyncLogEntry]:
        """Up to `limit` entries, newest first, after the cursor."""
        ...
    async def last_results(self) -> dict[str, LastResult]: ...


class StatisticsWriter(Protocol):
    """Per-date table statistics and row counts, as a run records them."""

    async def count_rows(self, dataset: str) -> int: ...
    async def upsert_statistics(self, stats: Sequence[TableStatistic]) -> None: ...


class StatisticsReader(Protocol):
    async def list_statistics(
        self, dataset: str | None, after: StatisticCursor | None, limit: int
    ) -> list[TableStatistic]: ...


class SyncEngineRepository(
    ReferenceDataWriter,
    RuleRecordWriter,
    RunFinisher,
    LeaseRepository,
    CheckpointRepository,
    SyncLogWriter,
    StatisticsWriter,
    Protocol,
):
    """What the engine writes while it executes a run."""


class SyncControlRepository(
    RunRecords, LeaseRepository, CheckpointRepository, SyncLogReader, StatisticsReader, Protocol
):
    """What the sync use cases read and record around the runs they start."""


class SyncRepository(SyncControlRepository, SyncEngineRepository, Protocol):
    """The use cases and the engine they start, together: the one adapter `SyncUseCases` is given."""


@dataclass(frozen=True)
class StoredSourceConfig:
    """The source configuration as stored: the token only encrypted."""

    token_ciphertext: bytes | None
    base_url: str
    calls_per_minute: float
    updated_at: dt.datetime


class SourceConfigRepository(Protocol):
    async def get_source_config(self) -> StoredSourceConfig | None: ...
    async def save_source_config(
        self, token_ciphertext: bytes | None, keep_token: bool, base_url: str, calls_per_minute: float, now: dt.datetime
    ) -> None: ...


class SecretBox(Protocol):
    """Symmetric encryption of secrets at rest."""

    def encrypt(self, plaintext: str) -> bytes: ...
    def decrypt(self, ciphertext: bytes) -> str: ...


@dataclass(frozen=True)
class SourceChoice:
    """The source a run uses, its name for logs, and where a sync with no start date begins."""

    source: MarketDataSource
    name: str
    default_start: dt.date | None = None


class SourceProvider(Protocol):
    async def current(self) -> SourceChoice: ...
