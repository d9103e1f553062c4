"""Sync use cases: pull datasets from a `MarketDataSource` into the store, observably and resumably.

How a run works:

* `start()` validates the request (bad input writes nothing), refuses datasets another run
  is syncing, records the run and starts it as a background asyncio task; watchers follow
  its `SyncProgress` and may go away without affecting it.
* The trade calendar is fetched first; daily, adj_factor, daily_basic and stk_factor are then
  driven by open trade dates, one whole-market call per day. Fetched days are written in
  batches through `BarStore.write` (idempotent upserts with exact counts); after each
  successful write the per-date statistics are stored and the dataset's checkpoint advances
  to the batch's last day. A failure or a cancel discards only the unwritten batch.
* Incremental runs start the day after each dataset's checkpoint, so a failed run resumes
  where it stopped; full runs cover the requested range again (unchanged rows are counted,
  not rewritten) and never move a checkpoint backwards.
* Each dataset ends with a `sync_logs` row: range, rows fetched, inserted, updated,
  unchanged, result, error and duration.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from zquant_kit.clock import Clock as Clock  # the shared port, re-exported for this layer
from zquant_kit import pagination
from zquant_kit.errors import FailedPrecondition, InvalidArgument, NotFound, ZqError
from zquant_marketdata.application.bar_store_port import BarStore, WriteCounts
from zquant_marketdata.application.source_port import MarketDataSource
from zquant_marketdata.domain.errors import SourceAuthError, SourceError
from zquant_marketdata.domain.sync import (
    CALENDAR_EXCHANGE,
    SECOND_CALENDAR_EXCHANGE,
    DATASETS,
    DATE_DRIVEN,
    EXPECTS_ROWS,
    INDEX_CODES,
    OPTIONAL_DATASETS,
    DatasetStatus,
    DatasetWindow,
    LogResult,
    RunState,
    SourceConfig,
    SyncLogEntry,
    SyncMode,
    SyncProgress,
    SyncRequest,
    SyncRun,
    TableStatistic,
    check_base_url,
    check_calls_per_minute,
    date_windows,
    fmt_date,
    window_for,
)

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
DATA_READY_HOUR = 18
"""Tushare publishes a day's bars in the evening (Beijing time); before that "today" is yesterday."""
DEFAULT_START = dt.date(2019, 1, 1)
KEYS = ["ts_code", "trade_date"]


# --- ports ----------------------------------------------------------------------------------------

LEASE_TTL = dt.timedelta(seconds=60)
"""How long a dataset lease lives without a heartbeat: one run per dataset across all replicas."""
SWEEP_INTERVAL = dt.timedelta(seconds=5)
"""How often a process looks for runs whose lease lapsed (StartSync, GetSyncStatus and CancelSync also look)."""
ABANDONED = "abandoned: lease expired"


class SyncRepository(Protocol):
    async def upsert_stock_basic(self, rows: Sequence[dict[str, Any]], now: dt.datetime) -> WriteCounts: ...
    async def upsert_trade_cal(self, rows: Sequence[dict[str, Any]]) -> WriteCounts: ...
    async def open_days(self, exchange: str, start: dt.date, end: dt.date) -> list[dt.date]: ...
    async def stock_lives(self, codes) -> dict[str, tuple[dt.date | None, dt.date | None]]: ...
    async def count_rows(self, dataset: str) -> int: ...
    async def create_run(self, run: SyncRun) -> None: ...
    async def finish_run(self, run_id: str, state: RunState, error: str | None, finished_at: dt.datetime) -> None: ...
    async def get_run(self, run_id: str) -> SyncRun | None: ...
    async def fail_stale_runs(self, now: dt.datetime, reason: str) -> int:
        """Fails `running` runs that hold no live lease: whoever ran them is gone."""
        ...
    async def leased_runs(self, now: dt.datetime) -> list[SyncRun]:
        """`running` runs holding a live lease: executing here or in another process."""
        ...
    async def acquire_leases(
        self, run_id: str, datasets: Sequence[str], now: dt.datetime, ttl: dt.timedelta
    ) -> str | None:
        """Atomically leases every dataset to the run, or none: returns the id of a run holding one."""
        ...
    async def renew_leases(self, run_id: str, now: dt.datetime, ttl: dt.timedelta) -> None: ...
    async def release_leases(self, run_id: str) -> None: ...
    async def checkpoints(self) -> dict[str, dt.date]: ...
    async def advance_checkpoint(self, dataset: str, day: dt.date, run_id: str, now: dt.datetime) -> None: ...
    async def add_log(self, entry: SyncLogEntry) -> None: ...
    async def list_logs(
        self, dataset: str | None, after: tuple[dt.datetime, str] | None, limit: int, run_id: str | None = None
    ) -> list[SyncLogEntry]: ...
    async def last_results(self) -> dict[str, tuple[str, dt.datetime]]: ...
    async def upsert_statistics(self, stats: Sequence[TableStatistic]) -> None: ...
    async def list_statistics(
        self, dataset: str | None, after: tuple[str, dt.date] | None, limit: int
    ) -> list[TableStatistic]: ...
    async def get_source_config(self) -> tuple[bytes | None, str, float, dt.datetime] | None: ...
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


# --- run handles ----------------------------------------------------------------------------------


class _Cancelled(Exception):
    pass


@dataclass(eq=False)
class RunHandle:
    """A live run: its record, progress, and the task executing it."""

    run: SyncRun
    progress: SyncProgress
    task: asyncio.Task | None = None
    cancel_requested: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def watch(self) -> AsyncIterator[SyncProgress]:
        """Snapshots until the run ends (the last one has a terminal state); coalesces bursts."""
        while True:
            snapshot, changed = self.progress.snapshot(), self._changed
            yield snapshot
            if snapshot.state.terminal:
                return
            await changed.wait()

    async def wait(self) -> SyncProgress:
        if self.task is not None:
            await asyncio.shield(self.task)
        return self.progress.snapshot()


@dataclass
class _Context:
    handle: RunHandle
    source: MarketDataSource
    total_units: int = 1
    done_units: int = 0

    def check_cancel(self) -> None:
        if self.handle.cancel_requested:
            raise _Cancelled()

    def advance(self, units: int = 1, *, current_date: dt.date | None = None) -> None:
        self.done_units += units
        progress = self.handle.progress
        progress.percent = min(99.9, 100.0 * self.done_units / max(1, self.total_units))
        if current_date is not None:
            progress.current_date = fmt_date(current_date)
        self.handle.notify()

    def count(self, log_entry: SyncLogEntry, fetched: int = 0, counts: WriteCounts | None = None) -> None:
        progress = self.handle.progress
        log_entry.rows_fetched += fetched
        progress.rows_fetched += fetched
        if counts is not None:
            log_entry.inserted += counts.inserted
            log_entry.updated += counts.updated
            log_entry.unchanged += counts.unchanged
            progress.inserted += counts.inserted
            progress.updated += counts.updated
            progress.unchanged += counts.unchanged


# --- frame helpers (pandas at the application edge) -----------------------------------------------


def _to_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip().replace("-", "")
    if not text or text.lower() in {"nan", "none", "nat"}:
        return None
    return dt.datetime.strptime(text[:8], "%Y%m%d").date()


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def stock_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for record in frame.to_dict("records"):
        code = _text(record.get("ts_code"))
        if not code:
            continue
        rows[code] = {
            "ts_code": code,
            "symbol": _text(record.get("symbol")) or code.split(".")[0],
            "name": _text(record.get("name")) or code,
            "area": _text(record.get("area")),
            "industry": _text(record.get("industry")),
            "market": _text(record.get("market")),
            "exchange": _text(record.get("exchange")),
            "list_status": _text(record.get("list_status")) or "L",
            "list_date": _to_date(record.get("list_date")),
            "delist_date": _to_date(record.get("delist_date")),
        }
    return list(rows.values())


def calendar_rows(frame: pd.DataFrame, exchange: str) -> list[dict[str, Any]]:
    rows = {}
    for record in frame.to_dict("records"):
        day = _to_date(record.get("cal_date"))
        if day is None:
            continue
        rows[day] = {
            "exchange": _text(record.get("exchange")) or exchange,
            "cal_date": day,
            "is_open": str(record.get("is_open")).strip() in {"1", "1.0", "True", "true"},
            "pretrade_date": _to_date(record.get("pretrade_date")),
        }
    return [rows[day] for day in sorted(rows)]


def _normalized_dates(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.astype("datetime64[ns]")
    return pd.to_datetime(column.astype(str), format="ISO8601").astype("datetime64[ns]")


def per_date_statistics(
    dataset: str, frame: pd.DataFrame, stored: pd.DataFrame, total_before: int
) -> tuple[list[TableStatistic], int]:
    """Per trade date of `frame`: rows inserted/updated by writing it over `stored` (the rows
    the store held in the frame's date range before the write), rows on the date afterwards,
    and the table's running total."""
    dates = _normalized_dates(frame["trade_date"]).to_numpy().astype("datetime64[D]")
    inserted = np.ones(len(frame), dtype=bool)
    updated = np.zeros(len(frame), dtype=bool)
    stored_days: dict[np.datetime64, int] = {}
    if not stored.empty:
        value_columns = [c for c in stored.columns if c not in KEYS]
        new = pd.DataFrame({"ts_code": frame["ts_code"].astype(str).to_numpy(), "trade_date": dates.astype("datetime64[ns]")})
        for column in value_columns:
            new[column] = pd.to_numeric(frame[column], errors="coerce").to_numpy() if column in frame else np.nan
        existing = stored[KEYS + value_columns].copy()
        existing["trade_date"] = _normalized_dates(existing["trade_date"])
        merged = new.merge(existing, on=KEYS, how="left", suffixes=("", "__stored"), indicator=True, sort=False)
        inserted = (merged["_merge"] == "left_only").to_numpy()
        changed = np.zeros(len(merged), dtype=bool)
        for column in value_columns:
            mine = merged[column].to_numpy(dtype="float64", na_value=np.nan)
            theirs = merged[f"{column}__stored"].to_numpy(dtype="float64", na_value=np.nan)
            changed |= ~((mine == theirs) | (np.isnan(mine) & np.isnan(theirs)))
        updated = changed & ~inserted
        days, counts = np.unique(existing["trade_date"].to_numpy().astype("datetime64[D]"), return_counts=True)
        stored_days = dict(zip(days.tolist(), counts.tolist()))
    unique_days, index = np.unique(dates, return_inverse=True)
    inserted_per_day = np.bincount(index, weights=inserted, minlength=len(unique_days)).astype(int)
    updated_per_day = np.bincount(index, weights=updated, minlength=len(unique_days)).astype(int)
    stats = []
    total = total_before
    for day, n_inserted, n_updated in zip(unique_days.tolist(), inserted_per_day.tolist(), updated_per_day.tolist()):
        total += n_inserted
        stats.append(TableStatistic(dataset, day, total, stored_days.get(day, 0) + n_inserted, n_inserted, n_updated))
    return stats, total


def _skippable(dataset: str, error: SourceError) -> bool:
    """An optional dataset the source lacks (no such API, no permission) is skipped, not fatal."""
    return dataset in OPTIONAL_DATASETS and not error.retryable and not isinstance(error, SourceAuthError)


# --- use cases ------------------------------------------------------------------------------------


class SyncUseCases:
    def __init__(
        self,
        repo: SyncRepository,
        bar_store: BarStore,
        sources: SourceProvider,
        clock: Clock,
        *,
        batch_days: int = 20,
        max_days_per_batch: int = 250,
        default_start: dt.date = DEFAULT_START,
        index_codes: Sequence[str] = INDEX_CODES,
    ) -> None:
        if batch_days < 1:
            raise ValueError("batch_days must be at least 1")
        self._repo = repo
        self._store = bar_store
        self._sources = sources
        self._clock = clock
        self._batch_days = batch_days
        self._max_days = max(batch_days, max_days_per_batch)
        self._default_start = default_start
        self._index_codes = tuple(index_codes)
        self._active: dict[str, RunHandle] = {}
        self._sweeper: asyncio.Task | None = None

    # --- lifecycle --------------------------------------------------------------------------

    async def recover(self) -> None:
        """At startup: runs a previous process left `running` whose lease lapsed are over."""
        await self.sweep()

    async def keep_sweeping(self) -> None:
        """Starts the periodic sweep (stopped by `shutdown`), so a run abandoned while nobody calls still ends."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="sync-lease-sweeper")

    async def sweep(self) -> int:
        """Fails every `running` run whose lease lapsed: its process died, so nothing executes it any more."""
        count = await self._repo.fail_stale_runs(self._clock.now(), ABANDONED)
        if count:
            log.warning("marked %d abandoned sync run(s) failed; an incremental sync resumes them", count)
        return count

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL.total_seconds())
            try:
                await self.sweep()
            except Exception:
                log.warning("could not sweep abandoned sync runs", exc_info=True)

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Asks every run to stop at its next batch boundary, then waits (cancelling past `timeout`)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        handles = list(self._active.values())
        for handle in handles:
            handle.cancel_requested = True
        tasks = [h.task for h in handles if h.task is not None]
        if not tasks:
            return
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # --- commands ---------------------------------------------------------------------------

    async def start(
        self,
        requested_by: str,
        datasets: Sequence[str],
        mode: SyncMode,
        start_date: str = "",
        end_date: str = "",
    ) -> RunHandle:
        request = SyncRequest.parse(datasets, mode, start_date, end_date)
        choice = await self._sources.current()  # an unconfigured source fails the call, not a run
        await self.sweep()  # a run whose lease lapsed no longer holds its datasets, here as in GetSyncStatus
        for handle in self._active.values():
            busy = sorted(set(handle.run.datasets) & set(request.datasets), key=DATASETS.index)
            if busy:
                raise FailedPrecondition(
                    f"sync run {handle.run.id} is already syncing {', '.join(busy)}; wait for it or cancel it",
                    reason="SYNC_ALREADY_RUNNING",
                )
        run = SyncRun(
            id=str(uuid.uuid4()),
            requested_by=requested_by,
            datasets=request.datasets,
            mode=request.mode,
            start=request.start,
            end=request.end,
            state=RunState.RUNNING,
            created_at=self._clock.now(),
        )
        handle = RunHandle(run=run, progress=SyncProgress(run_id=run.id))
        self._active[run.id] = handle  # before any await: a concurrent start sees it
        try:
            holder = await self._repo.acquire_leases(run.id, request.datasets, self._clock.now(), LEASE_TTL)
            if holder is not None:  # another replica is syncing one of these datasets
                raise FailedPrecondition(
                    f"sync run {holder} is already syncing one of {', '.join(request.datasets)}; wait or cancel it",
                    reason="SYNC_ALREADY_RUNNING",
                )
            try:
                await self._repo.create_run(run)
            except BaseException:
                await self._repo.release_leases(run.id)
                raise
        except BaseException:
            del self._active[run.id]
            raise
        handle.task = asyncio.create_task(self._execute(handle, request, choice), name=f"sync-{run.id}")
        return handle

    async def _keep_leases(self, run_id: str) -> None:
        """Heartbeat: a run's leases outlive it by at most LEASE_TTL if its process dies."""
        while True:
            await asyncio.sleep(LEASE_TTL.total_seconds() / 3)
            try:
                await self._repo.renew_leases(run_id, self._clock.now(), LEASE_TTL)
            except Exception:
                log.warning("could not renew the leases of sync run %s", run_id, exc_info=True)

    async def run(self, requested_by: str, datasets: Sequence[str], mode: SyncMode, start_date="", end_date=""):
        """Start and wait: the CLI's way."""
        handle = await self.start(requested_by, datasets, mode, start_date, end_date)
        return await handle.wait()

    def handle(self, run_id: str) -> RunHandle | None:
        return self._active.get(run_id)

    async def cancel(self, run_id: str) -> None:
        if not run_id:
            raise InvalidArgument("run_id", "required")
        handle = self._active.get(run_id)
        if handle is not None:
            handle.cancel_requested = True
            handle.notify()
            return
        await self.sweep()
        run = await self._repo.get_run(run_id)
        if run is None:
            raise NotFound("sync run", run_id)
        if run.state is RunState.RUNNING:
            raise FailedPrecondition(
                f"sync run {run_id} is running in another marketdata process, which alone can cancel it; "
                f"if that process died, the run fails within {int(LEASE_TTL.total_seconds())} s, when its lease expires",
                reason="SYNC_RUNNING_ELSEWHERE",
            )
        ended = f"{run.state.value} ({run.error})" if run.error else run.state.value
        raise FailedPrecondition(f"sync run {run_id} is not running: it ended {ended}", reason="SYNC_NOT_RUNNING")

    # --- queries ----------------------------------------------------------------------------

    async def status(self) -> tuple[list[DatasetStatus], list[SyncProgress]]:
        await self.sweep()
        checkpoints = await self._repo.checkpoints()
        results = await self._repo.last_results()
        statuses = [
            DatasetStatus(
                dataset=name,
                last_trade_date=checkpoints.get(name),
                last_run_state=results.get(name, ("", None))[0],
                last_run_time=results.get(name, ("", None))[1],
            )
            for name in DATASETS
        ]
        running = [handle.progress.snapshot() for handle in self._active.values()]
        # Runs of other processes hold their datasets as surely as ours do: StartSync refuses them too.
        running += [
            SyncProgress(run_id=run.id, dataset=",".join(run.datasets))
            for run in await self._repo.leased_runs(self._clock.now())
            if run.id not in self._active
        ]
        return statuses, running

    async def list_logs(self, dataset: str, page_size: int, page_token: str) -> tuple[list[SyncLogEntry], str]:
        if dataset and dataset not in DATASETS:
            raise InvalidArgument("dataset", f"unknown dataset {dataset!r}")
        size = pagination.page_size(page_size)
        key = pagination.decode_string_cursor("sync_logs", page_token, 2)
        after = None
        if key is not None:
            try:
                after = (dt.datetime.fromisoformat(key[0]), key[1])
            except ValueError:
                raise InvalidArgument("page_token", "invalid or expired page token") from None
        entries = await self._repo.list_logs(dataset or None, after, size + 1)
        token = ""
        if len(entries) > size:
            entries = entries[:size]
            token = pagination.encode_cursor("sync_logs", [entries[-1].started_at.isoformat(), entries[-1].id])
        return entries, token

    async def statistics(self, dataset: str, page_size: int, page_token: str) -> tuple[list[TableStatistic], str]:
        if dataset and dataset not in DATASETS:
            raise InvalidArgument("dataset", f"unknown dataset {dataset!r}")
        size = pagination.page_size(page_size)
        key = pagination.decode_string_cursor("table_statistics", page_token, 2)
        after = None
        if key is not None:
            try:
                after = (key[0], dt.date.fromisoformat(key[1]))
            except ValueError:
                raise InvalidArgument("page_token", "invalid or expired page token") from None
        stats = await self._repo.list_statistics(dataset or None, after, size + 1)
        token = ""
        if len(stats) > size:
            stats = stats[:size]
            token = pagination.encode_cursor("table_statistics", [stats[-1].dataset, stats[-1].stat_date.isoformat()])
        return stats, token

    # --- the run ----------------------------------------------------------------------------

    def default_end(self) -> dt.date:
        local = self._clock.now().astimezone(CHINA)
        return local.date() if local.hour >= DATA_READY_HOUR else local.date() - dt.timedelta(days=1)

    async def _execute(self, handle: RunHandle, request: SyncRequest, choice: SourceChoice) -> None:
        state, error, stopping = RunState.FAILED, None, False
        heartbeat = asyncio.create_task(self._keep_leases(handle.run.id), name=f"sync-lease-{handle.run.id}")
        try:
            await self._run_datasets(handle, request, choice)
            state = RunState.SUCCEEDED
        except _Cancelled:
            state = RunState.CANCELLED
        except asyncio.CancelledError:
            state, error, stopping = RunState.CANCELLED, "stopped with the service", True
            raise
        except SourceError as exc:
            error = str(exc)
            log.warning("sync run %s failed: %s", handle.run.id, error)
        except Exception as exc:
            error = client_safe_error(exc, handle.run.id)
            log.exception("sync run %s failed", handle.run.id)
        finally:
            if not stopping:
                # Even a failed or cancelled run committed whole batches: make them quick to read.
                await self._refresh_blocks(handle.run.id)
            progress = handle.progress
            progress.state = state
            progress.error = error or ""
            if state is RunState.SUCCEEDED:
                progress.percent = 100.0
            heartbeat.cancel()
            try:
                await asyncio.shield(self._repo.finish_run(handle.run.id, state, error, self._clock.now()))
                await asyncio.shield(self._repo.release_leases(handle.run.id))
            except Exception:
                log.exception("could not record the end of sync run %s", handle.run.id)
            handle.run.state = state
            self._active.pop(handle.run.id, None)
            handle.notify()

    async def _refresh_blocks(self, run_id: str) -> None:
        try:
            await self._store.refresh_blocks()
        except Exception:
            log.exception("sync run %s: could not refresh the bar blocks; reads use the rows until the next run", run_id)

    async def _run_datasets(self, handle: RunHandle, request: SyncRequest, choice: SourceChoice) -> None:
        ctx = _Context(handle, choice.source)
        end = request.end or self.default_end()
        default_start = choice.default_start or self._default_start
        checkpoints = await self._repo.checkpoints() if request.mode is SyncMode.INCREMENTAL else {}
        windows = {
            name: window_for(name, request.mode, request.start, default_start, end, checkpoints.get(name))
            for name in request.datasets
        }
        log.info("sync run %s from %s: %s", handle.run.id, choice.name, windows)

        calendar: list[dict[str, Any]] = []
        open_days: list[dt.date] = []
        dated = [w for name, w in windows.items() if (name in DATE_DRIVEN or name == "trade_cal") and not w.empty]
        calendar_window = None
        if dated:
            calendar_window = DatasetWindow("trade_cal", min(w.start for w in dated), end)
            ctx.check_cancel()
            frame = await ctx.source.trade_cal(CALENDAR_EXCHANGE, fmt_date(calendar_window.start), fmt_date(end))
            calendar = calendar_rows(frame, CALENDAR_EXCHANGE)
            open_days = [row["cal_date"] for row in calendar if row["is_open"]]

        units = {}
        for name, window in windows.items():
            if name in DATE_DRIVEN:
                units[name] = sum(1 for d in open_days if window.start <= d <= window.end)
            elif name == "index_daily":
                units[name] = 0 if window.empty else len(date_windows(window.start, window.end)) * len(self._index_codes)
            else:
                units[name] = 1
        ctx.total_units = max(1, sum(units.values()))
        handle.notify()

        if calendar and "trade_cal" not in windows:
            await self._repo.upsert_trade_cal(calendar)  # the local calendar follows what was synced
        for name in request.datasets:
            ctx.check_cancel()
            handle.progress.dataset = name
            handle.notify()
            if name == "stock_basic":
                await self._stock_basic(ctx, end)
            elif name == "trade_cal":
                await self._trade_cal(ctx, calendar_window or windows[name], calendar)
            elif name == "index_daily":
                await self._index_daily(ctx, windows[name])
            else:
                await self._date_driven(ctx, name, windows[name], open_days)

    def _log_entry(self, ctx: _Context, dataset: str, api_name: str, start, end) -> SyncLogEntry:
        return SyncLogEntry(
            id=str(uuid.uuid4()),
            run_id=ctx.handle.run.id,
            dataset=dataset,
            api_name=api_name,
            start=start,
            end=end,
            started_at=self._clock.now(),
        )

    async def _finish_log(
        self, entry: SyncLogEntry, result: LogResult, error: BaseException | str | None = None
    ) -> None:
        entry.result = result
        if isinstance(error, BaseException):
            entry.error = client_safe_error(error, entry.run_id)
        elif error is not None:
            entry.error = error
        entry.ended_at = self._clock.now()
        await asyncio.shield(self._repo.add_log(entry))

    async def _logged(self, entry: SyncLogEntry, body: Callable[[], Awaitable[None]]) -> None:
        try:
            await body()
        except _Cancelled:
            await self._finish_log(entry, LogResult.CANCELLED, "cancelled")
            raise
        except asyncio.CancelledError:
            await self._finish_log(entry, LogResult.CANCELLED, "stopped with the service")
            raise
        except Exception as exc:
            await self._finish_log(entry, LogResult.FAILED, exc)
            raise
        await self._finish_log(entry, entry.result, entry.error)

    async def _stock_basic(self, ctx: _Context, end: dt.date) -> None:
        entry = self._log_entry(ctx, "stock_basic", "stock_basic", None, end)

        async def body() -> None:
            frames = [await ctx.source.stock_basic("L", expect_rows=True)]
            for status in ("D", "P"):
                ctx.check_cancel()
                frames.append(await ctx.source.stock_basic(status, expect_rows=False))
            non_empty = [f for f in frames if not f.empty]
            rows = stock_rows(pd.concat(non_empty, ignore_index=True)) if non_empty else []
            counts = await self._repo.upsert_stock_basic(rows, self._clock.now())
            ctx.count(entry, len(rows), counts)
            total = await self._repo.count_rows("stock_basic")
            await self._repo.upsert_statistics(
                [TableStatistic("stock_basic", end, total, len(rows), counts.inserted, counts.updated)]
            )
            await self._repo.advance_checkpoint("stock_basic", end, ctx.handle.run.id, self._clock.now())
            ctx.advance(1)

        await self._logged(entry, body)

    async def _trade_cal(self, ctx: _Context, window: DatasetWindow, calendar: list[dict[str, Any]]) -> None:
        entry = self._log_entry(ctx, "trade_cal", "trade_cal", window.start, window.end)

        async def body() -> None:
            if calendar:
                # The run is driven by the SSE calendar (fetched above); SZSE is kept too for GetTradeCalendar.
                szse = await ctx.source.trade_cal(
                    SECOND_CALENDAR_EXCHANGE, fmt_date(window.start), fmt_date(window.end)
                )
                rows = [*calendar, *calendar_rows(szse, SECOND_CALENDAR_EXCHANGE)]
                counts = await self._repo.upsert_trade_cal(rows)
                ctx.count(entry, len(rows), counts)
                total = await self._repo.count_rows("trade_cal")
                await self._repo.upsert_statistics(
                    [TableStatistic("trade_cal", window.end, total, len(rows), counts.inserted, counts.updated)]
                )
                await self._repo.advance_checkpoint("trade_cal", window.end, ctx.handle.run.id, self._clock.now())
            ctx.advance(1, current_date=window.end)

        await self._logged(entry, body)

    async def _write(
        self, ctx: _Context, entry: SyncLogEntry, dataset: str, frames: list[pd.DataFrame], first: dt.date,
        last: dt.date, total: int,
    ) -> int:
        """One batch: write, statistics, then the checkpoint. Returns the table's new total."""
        frames = [f for f in frames if not f.empty]
        if frames:
            frame = pd.concat(frames, ignore_index=True)
            stored = await self._store.read_bars(dataset, None, first, last)
            counts = await self._store.write(dataset, frame)
            stats, total = per_date_statistics(dataset, frame, stored, total)
            await self._repo.upsert_statistics(stats)
            ctx.count(entry, 0, counts)
        await self._repo.advance_checkpoint(dataset, last, ctx.handle.run.id, self._clock.now())
        return total

    async def _date_driven(self, ctx: _Context, dataset: str, window: DatasetWindow, open_days: list[dt.date]) -> None:
        entry = self._log_entry(ctx, dataset, dataset, window.start if not window.empty else None, window.end)
        days = [d for d in open_days if window.start <= d <= window.end]
        fetch = getattr(ctx.source, dataset)
        expect = dataset in EXPECTS_ROWS

        async def body() -> None:
            if not days:
                return
            total = await self._repo.count_rows(dataset)
            pending: list[pd.DataFrame] = []
            pending_days: list[dt.date] = []
            with_rows = 0
            for position, day in enumerate(days):
                ctx.check_cancel()
                try:
                    frame = await fetch(trade_date=fmt_date(day), expect_rows=expect)
                except SourceError as exc:
                    if not _skippable(dataset, exc):
                        raise
                    log.warning("%s skipped: the source cannot serve it (%s)", dataset, exc)
                    entry.result, entry.error = LogResult.SKIPPED, f"source cannot serve {dataset}: {exc}"
                    ctx.advance(len(days) - position)
                    if pending_days:
                        await self._write(ctx, entry, dataset, pending, pending_days[0], pending_days[-1], total)
                    return
                pending.append(frame)
                pending_days.append(day)
                with_rows += not frame.empty
                ctx.count(entry, len(frame))
                ctx.advance(1, current_date=day)
                if with_rows >= self._batch_days or len(pending_days) >= self._max_days:
                    total = await self._write(ctx, entry, dataset, pending, pending_days[0], pending_days[-1], total)
                    pending, pending_days, with_rows = [], [], 0
                    ctx.handle.notify()
            if pending_days:
                await self._write(ctx, entry, dataset, pending, pending_days[0], pending_days[-1], total)
                ctx.handle.notify()

        await self._logged(entry, body)

    async def _index_daily(self, ctx: _Context, window: DatasetWindow) -> None:
        entry = self._log_entry(ctx, "index_daily", "index_daily", window.start, window.end)
        unavailable: dict[str, str] = {}
        rows_per_code = dict.fromkeys(self._index_codes, 0)

        async def body() -> None:
            if window.empty:
                return
            total = await self._repo.count_rows("index_daily")
            for first, last in date_windows(window.start, window.end):
                frames = []
                for code in self._index_codes:
                    ctx.check_cancel()
                    if code in unavailable:
                        ctx.advance(1)
                        continue
                    try:
                        frame = await ctx.source.index_daily(code, fmt_date(first), fmt_date(last), expect_rows=False)
                    except SourceError as exc:
                        if exc.retryable or isinstance(exc, SourceAuthError):
                            raise
                        unavailable[code] = str(exc)
                        ctx.advance(1)
                        continue
                    frames.append(frame)
                    rows_per_code[code] += len(frame)
                    ctx.count(entry, len(frame))
                    ctx.advance(1, current_date=last)
                total = await self._write(ctx, entry, "index_daily", frames, first, last, total)
                ctx.handle.notify()

        await self._logged(entry, body)
        for code in self._index_codes:
            if window.empty:
                break
            if code in unavailable or rows_per_code[code] == 0:
                reason = unavailable.get(code, "the source has no rows for it in the range")
                log.info("index_daily %s skipped: %s", code, reason)
                skipped = self._log_entry(ctx, "index_daily", "index_daily", window.start, window.end)
                await self._finish_log(skipped, LogResult.SKIPPED, f"{code} skipped: {reason}")


def client_safe_error(error: BaseException, run_id: str) -> str:
    """What clients may read about a failure: source and domain messages as they are; anything else could
    carry SQL or internals, so it is logged in full and reported by reference."""
    if isinstance(error, (SourceError, ZqError)):
        return str(error) or type(error).__name__
    return f"internal error (see the marketdata log for run {run_id})"


# --- source configuration -------------------------------------------------------------------------


class SourceConfigUseCases:
    """The Tushare token (encrypted at rest, never returned), endpoint and pacing."""

    def __init__(
        self,
        repo: SyncRepository,
        secrets: SecretBox,
        clock: Clock,
        *,
        default_base_url: str,
        default_calls_per_minute: float,
        env_token: str = "",
    ) -> None:
        self._repo = repo
        self._secrets = secrets
        self._clock = clock
        self._default_base_url = default_base_url
        self._default_cpm = default_calls_per_minute
        self._env_token = env_token

    async def set(self, token: str, base_url: str, calls_per_minute: float) -> bool:
        token = token.strip()
        if token and (len(token) > 512 or any(ch.isspace() for ch in token)):
            raise InvalidArgument("tushare_token", "must be a single word without whitespace")
        base_url = check_base_url(base_url)
        calls_per_minute = check_calls_per_minute(calls_per_minute)
        stored = await self._repo.get_source_config()
        current_url = stored[1] if stored else self._default_base_url
        current_cpm = stored[2] if stored else self._default_cpm
        moved = bool(base_url) and base_url != current_url
        if moved and not token and stored and stored[0]:
            # The SDK sends the token to base_url: a new endpoint must come with its token, or the stored
            # one could be redirected to any server by whoever can change the URL.
            raise InvalidArgument("tushare_token", "required when base_url changes (the stored token is not re-sent)")
        ciphertext = self._secrets.encrypt(token) if token else None
        await self._repo.save_source_config(
            ciphertext,
            keep_token=not token,
            base_url=base_url or current_url,
            calls_per_minute=calls_per_minute or current_cpm,
            now=self._clock.now(),
        )
        return token != "" or bool(stored and stored[0]) or bool(self._env_token)

    async def get(self) -> SourceConfig:
        stored = await self._repo.get_source_config()
        if stored is None:
            return SourceConfig(bool(self._env_token), self._default_base_url, self._default_cpm)
        ciphertext, base_url, cpm, updated_at = stored
        return SourceConfig(bool(ciphertext) or bool(self._env_token), base_url, cpm, updated_at)

    async def token(self) -> str:
        """The stored token (decrypted), else the environment's, else empty. Never log it."""
        stored = await self._repo.get_source_config()
        if stored is not None and stored[0]:
            return self._secrets.decrypt(stored[0])
        return self._env_token
