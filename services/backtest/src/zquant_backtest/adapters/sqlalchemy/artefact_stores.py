"""Results (compressed blobs, see result_codec), rendered reports, and the market data version."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_backtest.adapters.sqlalchemy import tables as t
from zquant_backtest.adapters.sqlalchemy.result_codec import decode_result, encode_result
from zquant_backtest.application.task_ports import DataVersions, ReportCache, ResultStore
from zquant_backtest.domain.simulation import BacktestResult
from zquant_kit.persistence.upsert import upsert

INITIAL_VERSION = "0"
"""Before any sync completed: runs are still keyed, by this."""
_MARKET = "market"


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class SqlAlchemyResultStore(ResultStore):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def put(self, task_id: str, owner_id: str, result: BacktestResult) -> None:
        values = {"task_id": task_id, "owner_id": owner_id, "data": encode_result(result)}
        await self._s.execute(upsert(self._s, t.results, ["task_id"], ["data"], values=values))

    async def get(self, task_id: str) -> BacktestResult | None:
        data = (
            await self._s.execute(select(t.results.c.data).where(t.results.c.task_id == task_id))
        ).scalar()
        return None if data is None else decode_result(data)

    async def delete(self, task_id: str) -> None:
        await self._s.execute(delete(t.results).where(t.results.c.task_id == task_id))

    async def delete_owned(self, owner_id: str) -> int:
        return _count(await self._s.execute(delete(t.results).where(t.results.c.owner_id == owner_id)))


class SqlAlchemyReportCache(ReportCache):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def put(self, task_id: str, owner_id: str, html: str) -> None:
        values = {"task_id": task_id, "owner_id": owner_id, "html": html}
        await self._s.execute(upsert(self._s, t.reports, ["task_id"], ["html"], values=values))

    async def get(self, task_id: str) -> str | None:
        html = (
            await self._s.execute(select(t.reports.c.html).where(t.reports.c.task_id == task_id))
        ).scalar()
        return None if html is None else str(html)

    async def delete(self, task_id: str) -> None:
        await self._s.execute(delete(t.reports).where(t.reports.c.task_id == task_id))

    async def delete_owned(self, owner_id: str) -> int:
        return _count(await self._s.execute(delete(t.reports).where(t.reports.c.owner_id == owner_id)))


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
