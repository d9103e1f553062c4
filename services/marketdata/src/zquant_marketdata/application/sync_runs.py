"""Run handles: a live run's record and progress, watched by callers and advanced by the engine."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from zquant_kit.persistence.blocks.counts import WriteCounts
from zquant_marketdata.application.source_port import MarketDataSource
from zquant_marketdata.domain.sync import SyncLogEntry, SyncProgress, SyncRun, fmt_date

LEASE_TTL = dt.timedelta(seconds=60)
"""How long a dataset lease lives without a heartbeat: one run per dataset across all replicas."""


class RunCancelled(Exception):
    """Raised inside a run at its next check once a cancel was requested."""


@dataclass(eq=False)
class RunHandle:
    """A live run: its record, progress, and the task executing it."""

    run: SyncRun
    progress: SyncProgress
    task: asyncio.Task[None] | None = None
    cancel_requested: bool = False
    key: tuple[str, str] | None = None
    """(requester, idempotency key) when the run was started with one."""
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
class RunContext:
    """What one executing run carries between its datasets: its handle, source and progress units."""

    handle: RunHandle
    source: MarketDataSource
    total_units: int = 1
    done_units: int = 0
    written: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    """Per dataset, the first and last day of what the run wrote so far."""

    def wrote(self, dataset: str, first: dt.date, last: dt.date) -> None:
        before = self.written.get(dataset)
        self.written[dataset] = (min(first, before[0]), max(last, before[1])) if before else (first, last)

    def check_cancel(self) -> None:
        if self.handle.cancel_requested:
            raise RunCancelled()

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
