"""Results (compressed blobs, see result_codec), rendered reports, and the market data version."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_backtest.adapters.sqlalchemy import tables as t
from zquant_backtest.adapters.sqlalchemy.result_codec import decode_result, encode_result
from zquant_backtest.application.task_ports import DataVersions, ReportCache, ResultStore
from zquant_backtest.domain.simulation import BacktestResult
from zquant_kit.persistence.statements import affected_rows
from zquant_kit.persistence.upsert import upsert

INITIAL_VERSION = "0"
"""Before any sync completed: runs are still keyed, by this."""
_MARKET = "market"


class TaskArtefacts:
    """The rows of one task artefact table (`tables.results`, `tables.reports`): a payload per task, with its
    owner, so a task's go when it goes and a deleted user's in one statement."""

    def __init__(self, session: AsyncSession, table: Table, payload: str) -> None:
        self._s = session
        self._table = table
        self._payload = payload

    async def _put(self, task_id: str, owner_id: str, payload: object) -> None:
        values = {"task_id": task_id, "owner_id": owner_id, self._payload: payload}
        await self._s.execute(upsert(self._s, self._table, ["task_id"], [self._payload], values=values))

    async def _get(self, task_id: str) -> Any:
        """The payload, or None without one."""
        c = self._table.c
        return (await self._s.execute(select(c[self._payload]).where(c.task_id == task_id))).scalar()

    async def delete(self, task_id: str) -> None:
        await self._s.execute(delete(self._table).where(self._table.c.task_id == task_id))

    async def delete_owned(self, owner_id: str) -> int:
        return affected_rows(await self._s.execute(delete(self._table).where(self._table.c.owner_id == owner_id)))


class SqlAlchemyResultStore(TaskArtefacts, ResultStore):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, t.results, "data")

    async def put(self, task_id: str, owner_id: str, result: BacktestResult) -> None:
        await self._put(task_id, owner_id, encode_result(result))

    async def get(self, task_id: str) -> BacktestResult | None:
        data = await self._get(task_id)
        return None if data is None else decode_result(data)


class SqlAlchemyReportCache(TaskArtefacts, ReportCache):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, t.reports, "html")

    async def put(self, task_id: str, owner_id: str, html: str) -> None:
        await self._put(task_id, owner_id, html)

    async def get(self, task_id: str) -> str | None:
        html = await self._get(task_id)
        return None if html is None else str(html)


class SqlAlchemyDataVersions(DataVersions):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def current(self) -> str:
        query = select(t.data_versions.c.version).where(t.data_versions.c.name == _MARKET)
        version = (await self._s.execute(query)).scalar()
        return INITIAL_VERSION if version is None else str(version)

    async def advance(self, run_id: str, at: dt.datetime) -> str:
        """`<counter>-<run id>`: ordered, and naming the sync run that wrote the data."""
        c = t.data_versions.c
        query = select(c.counter).where(c.name == _MARKET).with_for_update()
        counter = int((await self._s.execute(query)).scalar() or 0) + 1
        version = f"{counter}-{run_id}"[:200]
        values = {"name": _MARKET, "counter": counter, "version": version, "updated_at": at}
        statement = upsert(
            self._s, t.data_versions, ["name"], ["counter", "version", "updated_at"], values=values
        )
        await self._s.execute(statement)
        return version
