"""The sync run engine: the worker that executes one run, dataset by dataset, in batches.

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
* While it runs, a heartbeat renews its dataset leases.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

import pandas as pd

from zquant_marketdata.application.bar_store_port import BarStore
from zquant_marketdata.application.source_port import BarQuery, CalendarDay
from zquant_marketdata.application.sync_logging import RunLogger, client_safe_error, skippable
from zquant_marketdata.application.sync_ports import Clock, SourceChoice, SyncEngineRepository
from zquant_marketdata.application.sync_rule_records import RuleRecordSync
from zquant_marketdata.application.sync_runs import LEASE_TTL, RunCancelled, RunContext, RunHandle
from zquant_marketdata.application.sync_statistics import per_date_statistics
from zquant_marketdata.domain.errors import SourceAuthError, SourceError
from zquant_marketdata.domain.rule_datasets import RECORD_DATASETS
from zquant_marketdata.domain.sync import (
    CALENDAR_EXCHANGE,
    DATE_DRIVEN,
    EXPECTS_ROWS,
    INDEX_CODES,
    SECOND_CALENDAR_EXCHANGE,
    DatasetWindow,
    LogResult,
    RunState,
    SyncLogEntry,
    SyncMode,
    SyncRequest,
    TableStatistic,
    completed_of,
    date_windows,
    fmt_date,
    needs_calendar,
    window_for,
)

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
DATA_READY_HOUR = 18
"""Tushare publishes a day's bars in the evening (Beijing time); before that "today" is yesterday."""
DEFAULT_START = dt.date(2019, 1, 1)


class SyncEngine:
    """Executes runs: fetches from the chosen source, writes batches, statistics, checkpoints and logs."""

    def __init__(
        self,
        repo: SyncEngineRepository,
        bar_store: BarStore,
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
        self._clock = clock
        self._batch_days = batch_days
        self._max_days = max(batch_days, max_days_per_batch)
        self._default_start = default_start
        self._index_codes = tuple(index_codes)
        self._logs = RunLogger(repo, clock)
        self._records = RuleRecordSync(repo, self._logs, clock, self._index_codes, batch_days)

    def default_end(self) -> dt.date:
        local = self._clock.now().astimezone(CHINA)
        today: dt.date = local.date()
        return today if local.hour >= DATA_READY_HOUR else today - dt.timedelta(days=1)

    async def execute(
        self, handle: RunHandle, request: SyncRequest, choice: SourceChoice, on_end: Callable[[RunHandle], None]
    ) -> None:
        """Runs every requested dataset, then records how the run ended; `on_end` runs just before the
        last notification, so a watcher woken by it finds the run's datasets free."""
        state, error, stopping = RunState.FAILED, None, False
        ctx = RunContext(handle, choice.source)
        heartbeat = asyncio.create_task(self._keep_leases(handle.run.id), name=f"sync-lease-{handle.run.id}")
        try:
            await self._run_datasets(ctx, request, choice)
            state = RunState.SUCCEEDED
        except RunCancelled:
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
                completed = completed_of(handle.run.id, state, ctx.written)
                await asyncio.shield(self._repo.finish_run(handle.run.id, state, error, self._clock.now(), completed))
                await asyncio.shield(self._repo.release_leases(handle.run.id))
            except Exception:
                log.exception("could not record the end of sync run %s", handle.run.id)
            handle.run.state = state
            on_end(handle)
            handle.notify()

    async def _refresh_blocks(self, run_id: str) -> None:
        try:
            await self._store.refresh_blocks()
        except Exception:
            log.exception("sync run %s: could not refresh the bar blocks; reads use the rows until the next run", run_id)

    async def _run_datasets(self, ctx: RunContext, request: SyncRequest, choice: SourceChoice) -> None:
        handle = ctx.handle
        end = request.end or self.default_end()
        default_start = choice.default_start or self._default_start
        checkpoints = await self._repo.checkpoints() if request.mode is SyncMode.INCREMENTAL else {}
        windows = {
            name: window_for(name, request.mode, request.start, default_start, end, checkpoints.get(name))
            for name in request.datasets
        }
        log.info("sync run %s from %s: %s", handle.run.id, choice.name, windows)

        calendar: list[CalendarDay] = []
        open_days: list[dt.date] = []
        dated = [w for name, w in windows.items() if needs_calendar(name) and not w.empty]
        calendar_window = None
        if dated:
            calendar_window = DatasetWindow("trade_cal", min(w.start for w in dated), end)
            ctx.check_cancel()
            calendar = await ctx.source.calendar(CALENDAR_EXCHANGE, fmt_date(calendar_window.start), fmt_date(end))
            open_days = [day.cal_date for day in calendar if day.is_open]

        units = {}
        for name, window in windows.items():
            if name in DATE_DRIVEN:
                units[name] = sum(1 for d in open_days if window.start <= d <= window.end)
            elif name == "index_daily":
                units[name] = 0 if window.empty else len(date_windows(window.start, window.end)) * len(self._index_codes)
            elif name in RECORD_DATASETS:
                units[name] = sum(map(len, self._records.calls(name, window, open_days)))
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
            elif name in RECORD_DATASETS:
                await self._records.sync(ctx, name, windows[name], open_days)
            else:
                await self._date_driven(ctx, name, windows[name], open_days)

    async def _stock_basic(self, ctx: RunContext, end: dt.date) -> None:
        entry = self._logs.entry(ctx, "stock_basic", "stock_basic", None, end)

        async def body() -> None:
            records = await ctx.source.stocks("L", expect_rows=True)
            for status in ("D", "P"):
                ctx.check_cancel()
                records += await ctx.source.stocks(status, expect_rows=False)
            # One row per code: a later status list wins, as on Tushare's own merged list.
            rows = list({record.ts_code: record for record in records}.values())
            counts = await self._repo.upsert_stock_basic(rows, self._clock.now())
            ctx.count(entry, len(rows), counts)
            total = await self._repo.count_rows("stock_basic")
            await self._repo.upsert_statistics(
                [TableStatistic("stock_basic", end, total, len(rows), counts.inserted, counts.updated)]
            )
            await self._repo.advance_checkpoint("stock_basic", end, ctx.handle.run.id, self._clock.now())
            ctx.wrote("stock_basic", end, end)
            ctx.advance(1)

        await self._logs.logged(entry, body)

    async def _trade_cal(self, ctx: RunContext, window: DatasetWindow, calendar: list[CalendarDay]) -> None:
        entry = self._logs.entry(ctx, "trade_cal", "trade_cal", window.start, window.end)

        async def body() -> None:
            if calendar:
                # The run is driven by the SSE calendar (fetched above); SZSE is kept too for GetTradeCalendar.
                szse = await ctx.source.calendar(SECOND_CALENDAR_EXCHANGE, fmt_date(window.start), fmt_date(window.end))
                rows = [*calendar, *szse]
                counts = await self._repo.upsert_trade_cal(rows)
                ctx.count(entry, len(rows), counts)
                total = await self._repo.count_rows("trade_cal")
                await self._repo.upsert_statistics(
                    [TableStatistic("trade_cal", window.end, total, len(rows), counts.inserted, counts.updated)]
                )
                await self._repo.advance_checkpoint("trade_cal", window.end, ctx.handle.run.id, self._clock.now())
                ctx.wrote("trade_cal", window.start, window.end)
            ctx.advance(1, current_date=window.end)

        await self._logs.logged(entry, body)

    async def _write(
        self, ctx: RunContext, entry: SyncLogEntry, dataset: str, frames: list[pd.DataFrame], first: dt.date,
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
            ctx.wrote(dataset, first, last)
        await self._repo.advance_checkpoint(dataset, last, ctx.handle.run.id, self._clock.now())
        return total

    async def _date_driven(self, ctx: RunContext, dataset: str, window: DatasetWindow, open_days: list[dt.date]) -> None:
        entry = self._logs.entry(ctx, dataset, dataset, window.start if not window.empty else None, window.end)
        days = [d for d in open_days if window.start <= d <= window.end]
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
                    query = BarQuery(dataset, trade_date=fmt_date(day), expect_rows=expect)
                    frame = await ctx.source.bars(query)
                except SourceError as exc:
                    if not skippable(dataset, exc):
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

        await self._logs.logged(entry, body)

    async def _index_daily(self, ctx: RunContext, window: DatasetWindow) -> None:
        entry = self._logs.entry(ctx, "index_daily", "index_daily", window.start, window.end)
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
                        query = BarQuery(
                            "index_daily", ts_code=code, start_date=fmt_date(first), end_date=fmt_date(last)
                        )
                        frame = await ctx.source.bars(query)
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

        await self._logs.logged(entry, body)
        for code in self._index_codes:
            if window.empty:
                break
            if code in unavailable or rows_per_code[code] == 0:
                reason = unavailable.get(code, "the source has no rows for it in the range")
                log.info("index_daily %s skipped: %s", code, reason)
                skipped = self._logs.entry(ctx, "index_daily", "index_daily", window.start, window.end)
                await self._logs.finish(skipped, LogResult.SKIPPED, f"{code} skipped: {reason}")

    async def _keep_leases(self, run_id: str) -> None:
        """Heartbeat: a run's leases outlive it by at most LEASE_TTL if its process dies."""
        while True:
            await asyncio.sleep(LEASE_TTL.total_seconds() / 3)
            try:
                await self._repo.renew_leases(run_id, self._clock.now(), LEASE_TTL)
            except Exception:
                log.warning("could not renew the leases of sync run %s", run_id, exc_info=True)

