"""The sync steps of the plain-table rule datasets (suspend_d, namechange, dividend, index_weight).

Each follows its `FetchPlan`: whole-market calls per open day, per window of dates, or per index
code and window. Like the bar datasets, fetched rows are written in batches (idempotent keyed
upserts with exact counts), each batch followed by its statistics and the dataset's checkpoint,
so a failed run resumes after its last whole batch; a source lacking the dataset skips it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

import pandas as pd

from zquant_marketdata.application.sync_logging import RunLogger, skippable
from zquant_marketdata.application.sync_ports import (
    CheckpointRepository,
    Clock,
    RuleRecordWriter,
    StatisticsWriter,
)
from zquant_marketdata.application.sync_runs import RunContext
from zquant_marketdata.domain.errors import SourceError
from zquant_marketdata.domain.rule_datasets import RULE_DATASETS, FetchPlan, RuleDataset
from zquant_marketdata.domain.sync import (
    DatasetWindow,
    LogResult,
    SyncLogEntry,
    TableStatistic,
    date_windows,
    fmt_date,
)

log = logging.getLogger(__name__)

Call = tuple[dt.date, dt.date, Mapping[str, str]]
"""One source call: the days it covers and its params."""


class RuleRecordRepository(RuleRecordWriter, StatisticsWriter, CheckpointRepository, Protocol):
    """What a rule dataset's step writes."""


class DatasetSkipped(Exception):
    """The source cannot serve the dataset (no permission, no such API)."""


class RuleRecordSync:
    def __init__(
        self, repo: RuleRecordRepository, logs: RunLogger, clock: Clock, index_codes: Sequence[str], batch_days: int
    ) -> None:
        self._repo = repo
        self._logs = logs
        self._clock = clock
        self._index_codes = tuple(index_codes)
        self._batch_days = batch_days

    def calls(self, dataset: str, window: DatasetWindow, open_days: Sequence[dt.date]) -> list[list[Call]]:
        """The dataset's source calls in the window, grouped by the batch they are written in."""
        spec = RULE_DATASETS[dataset]
        if window.empty:
            return []
        if spec.plan is FetchPlan.PER_OPEN_DAY:
            days = [d for d in open_days if window.start <= d <= window.end]
            calls: list[Call] = [(d, d, {spec.date_param: fmt_date(d)}) for d in days]
            return [calls[i : i + self._batch_days] for i in range(0, len(calls), self._batch_days)]
        batches: list[list[Call]] = []
        for first, last in date_windows(window.start, window.end, spec.window_days):
            bounds = {"start_date": fmt_date(first), "end_date": fmt_date(last)}
            if spec.plan is FetchPlan.PER_INDEX_WINDOW:
                batches.append([(first, last, {"index_code": code, **bounds}) for code in self._index_codes])
            else:
                batches.append([(first, last, bounds)])
        return batches

    async def sync(self, ctx: RunContext, dataset: str, window: DatasetWindow, open_days: Sequence[dt.date]) -> None:
        spec = RULE_DATASETS[dataset]
        entry = self._logs.entry(ctx, dataset, dataset, None if window.empty else window.start, window.end)
        batches = self.calls(dataset, window, open_days)

        async def body() -> None:
            for position, batch in enumerate(batches):
                try:
                    frames = [await self._fetch(ctx, entry, spec, params) for _first, _last, params in batch]
                except DatasetSkipped as exc:
                    entry.result, entry.error = LogResult.SKIPPED, f"source cannot serve {dataset}: {exc}"
                    ctx.advance(sum(len(rest) for rest in batches[position:]))
                    return
                await self._write(ctx, entry, dataset, frames, batch[0][0], batch[-1][1])
                ctx.advance(len(batch), current_date=batch[-1][1])

        await self._logs.logged(entry, body)

    async def _fetch(
        self, ctx: RunContext, entry: SyncLogEntry, spec: RuleDataset, params: Mapping[str, str]
    ) -> pd.DataFrame:
        ctx.check_cancel()
        try:
            frame = await ctx.source.fetch_table(spec.name, params, expect_rows=False)
        except SourceError as exc:
            if not skippable(spec.name, exc):
                raise
            log.warning("%s skipped: the source cannot serve it (%s)", spec.name, exc)
            raise DatasetSkipped(str(exc)) from exc
        ctx.count(entry, len(frame))
        return frame

    async def _write(
        self, ctx: RunContext, entry: SyncLogEntry, dataset: str, frames: list[pd.DataFrame], first: dt.date,
        last: dt.date,
    ) -> None:
        frames = [frame for frame in frames if not frame.empty]
        if frames:
            frame = pd.concat(frames, ignore_index=True)
            counts = await self._repo.upsert_records(dataset, frame)
            ctx.count(entry, 0, counts)
            total = await self._repo.count_rows(dataset)
            await self._repo.upsert_statistics(
                [TableStatistic(dataset, last, total, len(frame), counts.inserted, counts.updated)]
            )
            ctx.wrote(dataset, first, last)
        await self._repo.advance_checkpoint(dataset, last, ctx.handle.run.id, self._clock.now())
        ctx.handle.notify()
