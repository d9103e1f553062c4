"""One replica's scheduling: claim due slots and orphaned runs, execute each claimed run as a task, and keep the
leases of the runs in flight alive. Any number of replicas run this against one database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from zquant_kit.tasks import raise_if_cancelled
from zquant_scheduler.application.claiming import Claimed, RunClaims
from zquant_scheduler.application.execution import RunExecutor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopSettings:
    tick_seconds: float = 0.2
    orphan_every_seconds: float = 1.0
    max_in_flight: int = 2000


class SchedulingLoop:
    def __init__(self, claims: RunClaims, executor: RunExecutor, settings: LoopSettings, lease_seconds: float) -> None:
        self._claims = claims
        self._executor = executor
        self._settings = settings
        self._renew_every = max(lease_seconds / 3, 0.05)
        self._wake = asyncio.Event()
        self.in_flight: dict[str, asyncio.Task[None]] = {}
        self._orphans_due = 0.0

    def wake(self) -> None:
        self._wake.set()

    def _start(self, claimed: Claimed) -> None:
        if claimed.run.id in self.in_flight:
            return
        task = asyncio.create_task(self._execute(claimed), name=f"run-{claimed.run.id}")
        self.in_flight[claimed.run.id] = task

    async def _execute(self, claimed: Claimed) -> None:
        try:
            await self._executor.execute(claimed)
        except asyncio.CancelledError:
            raise
        except Exception:  # a write failed (database down): the lease lapses and a replica takes the run over
            log.exception("scheduler: run %s stopped; its lease will lapse", claimed.run.id)
        finally:
            self.in_flight.pop(claimed.run.id, None)

    async def tick(self) -> int:
        """One claim pass; returns how many runs it started."""
        room = self._settings.max_in_flight - len(self.in_flight)
        if room <= 0:
            return 0
        claimed = await self._claims.claim_schedules(room)
        loop = asyncio.get_running_loop()
        if loop.time() >= self._orphans_due or self._wake.is_set():
            self._wake.clear()
            self._orphans_due = loop.time() + self._settings.orphan_every_seconds
            claimed += await self._claims.claim_orphans(room - len(claimed))
        for one in claimed:
            self._start(one)
        return len(claimed)

    async def run(self) -> None:
        """Claims again at once after a full batch (more are due); otherwise waits a tick or a wake-up."""
        while True:
            started = 0
            try:
                started = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is away: try again next tick
                log.warning("scheduler: claim failed, retrying: %s", error)
            raise_if_cancelled()
            if started >= self._claims.batch:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.tick_seconds):
                    await self._wake.wait()

    async def keep_leases(self) -> None:
        """Renews the leases in flight; a run that dropped out (cancelled by a user) has its task cancelled."""
        while True:
            raise_if_cancelled()
            await asyncio.sleep(self._renew_every)
            ids = list(self.in_flight)
            try:
                alive = await self._claims.renew(ids)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("scheduler: lease renewal failed: %s", error)
                continue
            for run_id in set(ids) - alive:
                task = self.in_flight.get(run_id)
                if task is not None:
                    task.cancel()

    async def stop(self) -> None:
        """Cancels the runs in flight and hands their leases over at once."""
        tasks = list(self.in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._claims.release()
