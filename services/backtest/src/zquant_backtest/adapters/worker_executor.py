"""``RunExecutor`` over worker processes: the panel is read (or found) in the shared cache on the async side, the
engine runs in a worker (``zquant_kit.workers``) so the service's loop never waits on it, and the run's progress
board is polled meanwhile. Cancelling the task raises the board's flag: the worker's run stops at its next day
(the strategy port's exit kills the sandbox child) and the slot is free for the next task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from zquant_backtest.adapters.factor_values import FACTOR_READ
from zquant_backtest.adapters.panel_cache import PanelCache, panel_key
from zquant_backtest.adapters.progress_board import ProgressBoard
from zquant_backtest.adapters.worker_run import (
    FactorAccess,
    StrategyFactory,
    TargetsFactory,
    WorkerJob,
    WorkerOutcome,
    run_backtest,
)
from zquant_backtest.application.panel_ports import PANEL_FIELDS, PanelSource
from zquant_backtest.application.run_ports import RunExecutor, RunFailed, RunProgress, RunSpec
from zquant_backtest.domain.simulation import BacktestResult
from zquant_kit.delegation import OwnerTokens
from zquant_kit.errors import ZqError
from zquant_kit.workers import WorkerProcesses

log = logging.getLogger(__name__)

WORKER_PRELOAD = ("numpy", "numba", "zquant_backtest.adapters.worker_run")
"""What the worker pool's fork server imports once, so each run starts warm."""
CANCEL_GRACE_SECONDS = 30.0
PANEL_ATTEMPTS = 2
"""A panel evicted between the lookup and the worker's open is read again, once."""


@dataclass(frozen=True)
class RunTimings:
    """One run's wall times: ``panel_seconds`` is the marketdata read and cache write on a miss (cold) or the
    cache lookup on a hit (warm); ``engine_seconds`` the worker's engine run."""

    task_id: str
    warm: bool
    panel_seconds: float
    engine_seconds: float


class WorkerRunExecutor(RunExecutor):
    def __init__(
        self,
        panels: PanelSource,
        cache: PanelCache,
        workers: WorkerProcesses,
        strategies: StrategyFactory,
        owner_tokens: OwnerTokens,
        boards: Path,
        *,
        targets: TargetsFactory | None = None,
        factor_address: str | None = None,
        poll_seconds: float = 0.2,
        on_timings: Callable[[RunTimings], None] | None = None,
    ) -> None:
        """``boards``: a directory for the runs' progress files; ``factor_address``: the factor service, None
        when this deployment has none (a strategy asking for a factor then fails with that reason)."""
        self._panels, self._cache, self._workers = panels, cache, workers
        self._strategies, self._targets = strategies, targets
        self._owner_tokens = owner_tokens
        self._boards = boards
        self._factor_address = factor_address
        self._poll = poll_seconds
        self._on_timings = on_timings

    async def execute(self, spec: RunSpec, progress: RunProgress) -> BacktestResult:
        key = panel_key(spec.data_version, spec.config, PANEL_FIELDS)
        factors = await self._factor_access(spec.owner_id)
        for _ in range(PANEL_ATTEMPTS):
            started = time.perf_counter()
            warm = await asyncio.to_thread(self._cache.contains, key)
            if not warm:
                panel = await self._panels.load(spec.config)
                await asyncio.to_thread(self._cache.put, key, panel)
            panel_seconds = time.perf_counter() - started
            outcome = await self._run_on_board(spec, key, factors, progress)
            if not outcome.panel_missing:
                break
        if outcome.cancelled:
            raise asyncio.CancelledError
        if outcome.result is None:
            raise RunFailed(outcome.failure)
        timings = RunTimings(spec.task_id, warm, panel_seconds, outcome.engine_seconds)
        log.info(
            "backtest %s: panel %s %.2fs, engine %.2fs", spec.task_id, "warm" if warm else "cold",
            panel_seconds, outcome.engine_seconds,
        )  # fmt: skip
        if self._on_timings is not None:
            self._on_timings(timings)
        return outcome.result

    async def _run_on_board(
        self, spec: RunSpec, key: str, factors: FactorAccess | None, progress: RunProgress
    ) -> WorkerOutcome:
        board = ProgressBoard.create(self._boards / f"{spec.task_id}.progress")
        try:
            job = WorkerJob(
                spec=spec,
                cache_root=str(self._cache.root),
                cache_key=key,
                board_path=str(board.path),
                strategies=self._strategies,
                targets=self._targets,
                factors=factors,
            )
            return await self._run(job, board, progress)
        finally:
            board.remove()

    async def _run(self, job: WorkerJob, board: ProgressBoard, progress: RunProgress) -> WorkerOutcome:
        running = asyncio.ensure_future(self._workers.run(run_backtest, job))
        reported: tuple[float, object] = (-1.0, None)
        try:
            while True:
                done, _ = await asyncio.wait({running}, timeout=self._poll)
                now = board.progress()
                if now != reported and now[1] is not None:
                    reported = now
                    await progress.report(*now)
                if done:
                    break
        except asyncio.CancelledError:
            board.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(running), CANCEL_GRACE_SECONDS)
            raise
        try:
            outcome: WorkerOutcome = running.result()
        except BrokenProcessPool:
            await (
                self._workers.close()
            )  # the next run starts a fresh pool instead of failing on the broken one
            raise RunFailed("the worker process running the backtest died") from None
        return outcome

    async def _factor_access(self, owner_id: str) -> FactorAccess | None:
        """The owner's factor token now (before the worker starts); a refusal is kept as the reason a factor ask
        will fail with, since most strategies never ask for one."""
        if self._factor_address is None:
            return None
        try:
            token = await self._owner_tokens.token_for(owner_id, (FACTOR_READ,))
        except ZqError as error:
            return FactorAccess(self._factor_address, refusal=str(error))
        return FactorAccess(self._factor_address, token=token)
