"""The staleness use case over an in-memory mark table, wired to a calculation world."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.factor.tests.unit.calculation.world import CalcWorld
from zquant_factor.application.staleness import Staleness
from zquant_kit.testing.transactions import FakeDatabase, FakeStore, FakeTransaction


@dataclass
class StaleStore(FakeStore):
    marks: dict[str, dt.date] = field(default_factory=dict)


class FakeStale:
    def __init__(self, store: StaleStore) -> None:
        self._s = store

    async def mark(self, factor_id: str, since: dt.date) -> None:
        self._s.marks[factor_id] = min(since, self._s.marks.get(factor_id, since))

    async def clear(self, factor_ids: Sequence[str]) -> None:
        for factor_id in factor_ids:
            self._s.marks.pop(factor_id, None)

    async def list(self) -> dict[str, dt.date]:
        return dict(self._s.marks)


class StaleTransaction(FakeTransaction[StaleStore]):
    def open(self, work: StaleStore) -> None:
        self.stale = FakeStale(work)


def staleness_of(world: CalcWorld, *, auto_update: bool) -> tuple[Staleness, FakeDatabase[StaleStore]]:
    database = FakeDatabase(StaleStore())
    staleness = Staleness(
        lambda: StaleTransaction(database), world.definitions._uow, world.values, world.jobs, auto_update
    )
    return staleness, database
