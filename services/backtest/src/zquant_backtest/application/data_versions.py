"""The market data version every submitted task records (and the panel cache is keyed by): it advances once
per `marketdata.sync.completed.v1` that wrote data, idempotently."""

from __future__ import annotations

from zquant.marketdata.v1 import events_pb2
from zquant_backtest.application.task_ports import Clock
from zquant_backtest.application.unit_of_work_ports import UnitOfWorkFactory
from zquant_kit.events.model import Event

SYNC_COMPLETED = "marketdata.sync.completed.v1"
CONSUMER = "backtest-data-version"


class DataVersionTracker:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def on_sync_completed(self, event: Event) -> None:
        message = event.decode(events_pb2.SyncCompletedEvent)
        async with self._uow() as uow:
            if not await uow.claim(CONSUMER, event.id):
                return
            if message.datasets:
                await uow.versions.advance(message.run_id or event.id, self._clock.now())
            await uow.commit()

    async def current(self) -> str:
        async with self._uow() as uow:
            return await uow.versions.current()
