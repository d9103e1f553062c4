"""Stale factors: `marketdata.sync.completed.v1` marks the factors whose inputs a sync rewrote; with the opt-in
setting ZQUANT_FACTOR_AUTO_UPDATE the enabled ones get an incremental job each (owned by the system).

Every factor reads bars (daily) and hfq prices (adj_factor), so a sync of either dataset marks every factor with
stored values stale from the sync's first date; other datasets (daily_basic, stock_basic, …) feed no stored
factor. A succeeded calculation clears the marks of its factors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from zquant.factor.v1 import events_pb2 as factor_events
from zquant.marketdata.v1 import events_pb2
from zquant_factor.application.calculation_jobs import CalculationJobs, CalculationRequest
from zquant_factor.application.calculation_plan import value_columns
from zquant_factor.application.calculation_ports import RunMode
from zquant_factor.application.definition_ports import UnitOfWorkFactory
from zquant_factor.application.value_ports import FactorValueStore
from zquant_factor.domain.definitions.records import FactorDefinition
from zquant_kit import unit_of_work as kit_uow
from zquant_kit.dates import parse_yyyymmdd
from zquant_kit.events.model import Event

SYNC_COMPLETED = "marketdata.sync.completed.v1"
STALENESS_CONSUMER = "factor-staleness"
CALCULATED_CONSUMER = "factor-calculated-staleness"
AUTO_UPDATE_SETTING = "ZQUANT_FACTOR_AUTO_UPDATE"
INPUT_DATASETS = frozenset({"daily", "adj_factor"})
PAGE = 500


class StaleFactors(Protocol):
    async def mark(self, factor_id: str, since: dt.date) -> None:
        """Stale from `since` on (an earlier mark's date is kept when it is earlier)."""
        ...

    async def clear(self, factor_ids: Sequence[str]) -> None: ...

    async def list(self) -> dict[str, dt.date]: ...


class StalenessUnitOfWork(kit_uow.UnitOfWork, Protocol):
    stale: StaleFactors


StalenessUnitOfWorkFactory = kit_uow.UnitOfWorkFactory[StalenessUnitOfWork]


class Staleness:
    def __init__(
        self,
        uow: StalenessUnitOfWorkFactory,
        definitions: UnitOfWorkFactory,
        values: FactorValueStore,
        jobs: CalculationJobs,
        auto_update: bool,
    ) -> None:
        self._uow = uow
        self._definitions = definitions
        self._values = values
        self._jobs = jobs
        self._auto_update = auto_update

    async def on_sync_completed(self, event: Event) -> None:
        message = event.decode(events_pb2.SyncCompletedEvent)
        if not INPUT_DATASETS & set(message.datasets) or not message.start_date:
            return
        since = parse_yyyymmdd(message.start_date)
        end = parse_yyyymmdd(message.end_date or message.start_date)
        stored = [d for d in await self._every_definition() if await self._has_values(d)]
        async with self._uow() as uow:
            if not await uow.claim(STALENESS_CONSUMER, event.id):
                return
            for definition in stored:
                await uow.stale.mark(definition.id, since)
            await uow.commit()
        if self._auto_update:
            for definition in stored:
                if definition.enabled:
                    request = CalculationRequest((definition.id,), (), since, end, RunMode.INCREMENTAL)
                    await self._jobs.submit_for_system(request)

    async def stale(self) -> dict[str, dt.date]:
        async with self._uow() as uow:
            return await uow.stale.list()

    async def on_calculated(self, event: Event) -> None:
        """factor.calculated.v1 (this service's own event): its factors are up to date."""
        message = event.decode(factor_events.FactorCalculatedEvent)
        async with self._uow() as uow:
            await uow.stale.clear(list(message.factor_ids))
            await uow.commit()

    async def _has_values(self, definition: FactorDefinition) -> bool:
        async with self._definitions() as uow:
            models = await uow.models.list_for_factor(definition.id)
        columns = value_columns(definition, models)
        return bool(columns) and await self._values.last_date(definition.id, columns[0]) is not None

    async def _every_definition(self) -> list[FactorDefinition]:
        found: list[FactorDefinition] = []
        async with self._definitions() as uow:
            while True:
                after = found[-1].factor_name if found else None
                page = await uow.definitions.list_visible(None, after, PAGE)
                found += page
                if len(page) < PAGE:
                    return found
