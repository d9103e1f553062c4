"""Run changes written in batches: every attempt and state change of the runs one replica executes goes through
one writer, which applies all that are waiting in one transaction — and only to the runs this replica still holds
(a cancel or a takeover makes the write report the run lost). Hundreds of runs ending in the same second cost a
handful of transactions, not hundreds."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from zquant_kit.events.model import Event
from zquant_scheduler.application.job_ports import Lease, UnitOfWorkFactory
from zquant_scheduler.domain.runs import Attempt, Run


@dataclass(frozen=True)
class RunChange:
    """`apply` changes the held run (counting the attempt) and returns the event to publish, if any; the writer
    numbers the attempt; `keep_lease` is False once the run has ended."""

    run_id: str
    attempt: Attempt | None
    apply: Callable[[Run], Event | None]
    keep_lease: bool


class RunWriter:
    def __init__(self, uow: UnitOfWorkFactory, lease: Callable[[], Lease], max_batch: int = 500) -> None:
        self._uow = uow
        self._lease = lease
        self._max_batch = max_batch
        self._waiting: list[tuple[RunChange, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, change: RunChange) -> bool:
        """True once written; False when this replica no longer holds the run."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((change, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all(), name="scheduler-run-writer")
        return await done

    async def _flush_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            try:
                written = await self._flush(batch)
            except Exception as error:  # the database is away: each waiting execution sees the error
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            for (_, done), ok in zip(batch, written):
                if not done.done():
                    done.set_result(ok)

    async def _flush(self, batch: list[tuple[RunChange, asyncio.Future[bool]]]) -> list[bool]:
        lease = self._lease()
        async with self._uow() as uow:
            held = await uow.runs.held_many([change.run_id for change, _ in batch], lease.holder)
            written, attempts, saves = [], [], []
            for change, _ in batch:
                run = held.get(change.run_id)
                written.append(run is not None)
                if run is None:
                    continue
                if change.attempt is not None:  # numbered per run, across a pipeline's steps
                    attempts.append(dataclasses.replace(change.attempt, number=run.attempts + 1))
                event = change.apply(run)
                if event is not None:
                    uow.emit(event)
                saves.append((run, lease if change.keep_lease else None))
            await uow.runs.add_attempts(attempts)
            await uow.runs.save_many(saves)
            await uow.commit()
        return written
