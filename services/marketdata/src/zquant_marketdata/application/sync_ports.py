"""Ports of the sync use cases, each narrowed to one concern; one adapter may implement several."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from zquant_kit.clock import Clock as Clock  # the shared port, re-exported for this layer
from zquant_marketdata.application.bar_store_port import WriteCounts
from zquant_marketdata.application.source_port import MarketDataSource
from zquant_marketdata.domain.sync import RunState, SyncLogEntry, SyncRun, TableStatistic


class ReferenceDataRepository(Protocol):
    """The stock list and the trade calendar, written by sync and read by validation."""

    async def upsert_stock_basic(self, rows: Sequence[dict[str, Any]], now: dt.datetime) -> WriteCounts: ...
    async def upsert_trade_cal(self, rows: Sequence[dict[str, Any]]) -> WriteCounts: ...
    async def open_days(self, exchange: str, start: dt.date, end: dt.date) -> list[dt.date]: ...
    async def stock_lives(
        self, codes: Iterable[str] | None
    ) -> dict[str, tuple[dt.date | None, dt.date | None]]: ...


class SyncRunRepository(Protocol):
    """The record of each run."""

    async def create_run(self, run: SyncRun) -> None: ...
    async def finish_run(self, run_id: str, state: RunState, error: str | None, finished_at: dt.datetime) -> None: ...
    async def get_run(self, run_id: str) -> SyncRun | None: ...
    async def fail_stale_runs(self, now: dt.datetime, reason: str) -> int:
        """Fails `running` runs that hold no live lease: whoever ran them is gone."""
        ...
    async def leased_runs(self, now: dt.datetime) -> list[SyncRun]:
        """`running` runs holding a live lease: executing here or in another process."""
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


class SyncLogRepository(Protocol):
    """One `sync_logs` row per dataset and run."""

    async def add_log(self, entry: SyncLogEntry) -> None: ...
    async def list_logs(
        self, dataset: str | None, after: tuple[dt.datetime, str] | None, limit: int, run_id: str | None = None
    ) -> list[SyncLogEntry]: ...
    async def last_results(self) -> dict[str, tuple[str, dt.datetime]]: ...


class StatisticsRepository(Protocol):
    """Per-date table statistics and row counts."""

    async def count_rows(self, dataset: str) -> int: ...
    async def upsert_statistics(self, stats: Sequence[TableStatistic]) -> None: ...
    async def list_statistics(
        self, dataset: str | None, after: tuple[str, dt.date] | None, limit: int
    ) -> list[TableStatistic]: ...


class SyncRepository(
    ReferenceDataRepository,
    SyncRunRepository,
    LeaseRepository,
    CheckpointRepository,
    SyncLogRepository,
    StatisticsRepository,
    Protocol,
):
    """Everything a sync run touches."""


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
