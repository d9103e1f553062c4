"""Sync use cases: start, watch, cancel and inspect runs that pull datasets from a `MarketDataSource`.

* `start()` validates the request (bad input writes nothing), refuses datasets another run
  is syncing, records the run and hands it to the `SyncEngine` as a background asyncio task;
  watchers follow its `SyncProgress` and may go away without affecting it.
* Runs of a process that died keep their datasets until their lease lapses; a periodic sweep
  (and StartSync, GetSyncStatus, CancelSync) then marks them failed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Sequence

from zquant_kit.errors import FailedPrecondition, InvalidArgument, NotFound
from zquant_kit.pagination import Page, fetch_page
from zquant_marketdata.application.bar_store_port import BarStore
from zquant_marketdata.application.sync_engine import SyncEngine
from zquant_marketdata.application.sync_ports import (
    Clock,
    LogCursor,
    SourceProvider,
    StatisticCursor,
    SyncControlRepository,
    SyncRepository,
)
from zquant_marketdata.application.sync_runs import LEASE_TTL, RunHandle
from zquant_marketdata.domain.sync import (
    DATASETS,
    DatasetStatus,
    RunState,
    SyncLogEntry,
    SyncMode,
    SyncProgress,
    SyncRequest,
    SyncRun,
    TableStatistic,
)

log = logging.getLogger(__name__)

SWEEP_INTERVAL = dt.timedelta(seconds=5)
"""How often a process looks for runs whose lease lapsed (StartSync, GetSyncStatus and CancelSync also look)."""
ABANDONED = "abandoned: lease expired"


class SyncUseCases:
    def __init__(
        self,
        repo: SyncRepository,
        bar_store: BarStore,
        sources: SourceProvider,
        clock: Clock,
        *,
        batch_days: int = 20,
    ) -> None:
        """`batch_days` open days go into one write; the engine's other options keep their defaults."""
        self._engine = SyncEngine(repo, bar_store, clock, batch_days=batch_days)
        self._repo: SyncControlRepository = repo
        self._sources = sources
        self._clock = clock
        self._active: dict[str, RunHandle] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._stop_sweeping = asyncio.Event()

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
        """Until `shutdown` sets `_stop_sweeping`; a sweep in progress finishes (a task cancelled inside a database
        call can leave its connection checked out)."""
        while True:
            try:
                await asyncio.wait_for(self._stop_sweeping.wait(), SWEEP_INTERVAL.total_seconds())
                return
            except TimeoutError:
                pass
            try:
                await self.sweep()
            except Exception:
                log.warning("could not sweep abandoned sync runs", exc_info=True)

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Asks every run to stop at its next batch boundary, then waits (cancelling past `timeout`)."""
        if self._sweeper is not None:
            self._stop_sweeping.set()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        handles = list(self._active.values())
        for handle in handles:
            handle.cancel_requested = True
        tasks = [h.task for h in handles if h.task is not None]
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
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
        *,
        idempotency_key: str = "",
    ) -> RunHandle:
        """With `idempotency_key`, a repeat by the same requester gets the run the key first started."""
        request = SyncRequest.parse(datasets, mode, start_date, end_date)
        key = (requested_by, idempotency_key) if idempotency_key else None
        if key is not None:
            earlier = self._live_with(key)
            if earlier is not None:
                return earlier
            recorded = await self._repo.run_for_key(*key)
            if recorded is not None:
                return await self._replayed(recorded)
        choice = await self._sources.current()  # an unconfigured source fails the call, not a run
        await self.sweep()  # a run whose lease lapsed no longer holds its datasets, here as in GetSyncStatus
        earlier = self._live_with(key)  # again: a start with this key may have begun during the awaits above
        if earlier is not None:
            return earlier
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
        handle = RunHandle(run=run, progress=SyncProgress(run_id=run.id), key=key)
        self._active[run.id] = handle  # before any await: a concurrent start sees it
        try:
            holder = await self._repo.acquire_leases(run.id, request.datasets, self._clock.now(), LEASE_TTL)
            recorded = await self._repo.run_for_key(*key) if holder is not None and key is not None else None
            if recorded is not None:  # the key's run started in another replica meanwhile
                bound = recorded.id
            elif holder is not None:  # another replica is syncing one of these datasets
                raise FailedPrecondition(
                    f"sync run {holder} is already syncing one of {', '.join(request.datasets)}; wait or cancel it",
                    reason="SYNC_ALREADY_RUNNING",
                )
            else:
                try:
                    bound = await self._repo.create_run(run, idempotency_key)
                except BaseException:
                    await self._repo.release_leases(run.id)
                    raise
            if bound != run.id:
                await self._repo.release_leases(run.id)
                earlier_run = await self._repo.get_run(bound)
                assert earlier_run is not None, "a key is bound to a recorded run"
                replay = await self._replayed(earlier_run)
                self._end_unstarted(handle, replay.progress)
                return replay
        except BaseException as exc:
            self._end_unstarted(handle, SyncProgress(run.id, state=RunState.FAILED, error=str(exc)))
            raise
        handle.task = asyncio.create_task(
            self._engine.execute(handle, request, choice, self._ended), name=f"sync-{run.id}"
        )
        return handle

    async def run(
        self, requested_by: str, datasets: Sequence[str], mode: SyncMode, start_date: str = "", end_date: str = ""
    ) -> SyncProgress:
        """Start and wait: the CLI's way."""
        handle = await self.start(requested_by, datasets, mode, start_date, end_date)
        return await handle.wait()

    def _live_with(self, key: tuple[str, str] | None) -> RunHandle | None:
        return None if key is None else next((h for h in self._active.values() if h.key == key), None)

    async def _replayed(self, run: SyncRun) -> RunHandle:
        """The run a repeated key names: live here, or as it ended (a run live elsewhere cannot be watched here)."""
        live = self._active.get(run.id)
        if live is not None:
            return live
        if run.state is RunState.RUNNING:
            await self.sweep()  # its process may have died: then it has failed
            run = await self._repo.get_run(run.id) or run
        if run.state is RunState.RUNNING:
            raise FailedPrecondition(
                f"sync run {run.id} of this idempotency key is running in another marketdata process; "
                "ask again when it has ended",
                reason="SYNC_RUNNING_ELSEWHERE",
            )
        ended = SyncProgress(
            run_id=run.id,
            dataset=",".join(run.datasets),
            percent=100.0 if run.state is RunState.SUCCEEDED else 0.0,
            state=run.state,
            error=run.error or "",
        )
        return RunHandle(run=run, progress=ended)

    def _end_unstarted(self, handle: RunHandle, outcome: SyncProgress) -> None:
        """A start that did not start: watchers that found its handle by key see `outcome` and stop."""
        self._active.pop(handle.run.id, None)
        handle.progress = outcome.snapshot()
        handle.notify()

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
                last_run_state=results[name].result if name in results else "",
                last_run_time=results[name].ended_at if name in results else None,
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

    async def list_logs(self, dataset: str, after: LogCursor | None, page_size: int) -> Page[SyncLogEntry]:
        """Up to `page_size` logs newest first, after the cursor; and whether more follow."""
        _check_dataset(dataset)
        return await fetch_page(lambda n: self._repo.list_logs(dataset or None, after, n), page_size)

    async def statistics(
        self, dataset: str, after: StatisticCursor | None, page_size: int
    ) -> Page[TableStatistic]:
        """Up to `page_size` statistics after the cursor; and whether more follow."""
        _check_dataset(dataset)
        return await fetch_page(lambda n: self._repo.list_statistics(dataset or None, after, n), page_size)

    def _ended(self, handle: RunHandle) -> None:
        """The engine's last step of a run: its datasets are free again for `start` here."""
        self._active.pop(handle.run.id, None)


def _check_dataset(dataset: str) -> None:
    if dataset and dataset not in DATASETS:
        raise InvalidArgument("dataset", f"unknown dataset {dataset!r}")
