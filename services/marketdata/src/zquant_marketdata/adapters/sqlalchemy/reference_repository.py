"""SQLAlchemy Core adapter of the reference tables (stock_basic, trade_cal): upserts with exact counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import select

from zquant_kit.persistence.blocks.counts import WriteCounts
from zquant_kit.persistence.params import in_values
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.sql_store import SqlStore
from zquant_marketdata.application.source_port import CalendarDay, StockRecord
from zquant_marketdata.application.sync_ports import ReferenceDataReader, ReferenceDataWriter, StockLife

_STOCK_FIELDS = ("symbol", "name", "area", "industry", "market", "exchange", "list_status", "list_date", "delist_date")


class SqlAlchemyReferenceRepository(SqlStore, ReferenceDataWriter, ReferenceDataReader):
    async def upsert_stock_basic(self, records: Sequence[StockRecord], now: dt.datetime) -> WriteCounts:
        rows = [{**asdict(record), "updated_at": now} for record in records]
        t = tables.stock_basic
        async with self._sessions() as session:
            existing = {
                row.ts_code: row
                for row in (await session.execute(select(t).where(t.c.ts_code.in_([r["ts_code"] for r in rows])))).all()
            }
            new, changed, unchanged = sort_out(
                rows,
                lambda row: existing.get(row["ts_code"]),
                lambda stored, row: any(getattr(stored, name) != row.get(name) for name in _STOCK_FIELDS),
            )
            if new:
                await session.execute(t.insert(), new)
            for row in changed:
                await session.execute(
                    t.update().where(t.c.ts_code == row["ts_code"]).values({k: v for k, v in row.items() if k != "ts_code"})
                )
            await session.commit()
        return WriteCounts(inserted=len(new), updated=len(changed), unchanged=unchanged)

    async def upsert_trade_cal(self, records: Sequence[CalendarDay]) -> WriteCounts:
        rows = [asdict(record) for record in records]
        if not rows:
            return WriteCounts(0, 0, 0)
        t = tables.trade_cal
        async with self._sessions() as session:
            days = [r["cal_date"] for r in rows]
            exchanges = sorted({r["exchange"] for r in rows})
            existing = {
                (row.exchange, row.cal_date): row
                for row in (
                    await session.execute(
                        select(t).where(t.c.exchange.in_(exchanges), t.c.cal_date.between(min(days), max(days)))
                    )
                ).all()
            }
            new, changed, unchanged = sort_out(
                rows,
                lambda row: existing.get((row["exchange"], row["cal_date"])),
                lambda stored, row: stored.is_open != row["is_open"] or stored.pretrade_date != row["pretrade_date"],
            )
            if new:
                await session.execute(t.insert(), new)
            for row in changed:
                await session.execute(
                    t.update()
                    .where(t.c.exchange == row["exchange"], t.c.cal_date == row["cal_date"])
                    .values(is_open=row["is_open"], pretrade_date=row["pretrade_date"])
                )
            await session.commit()
        return WriteCounts(inserted=len(new), updated=len(changed), unchanged=unchanged)

    async def open_days(self, exchange: str, start: dt.date, end: dt.date) -> list[dt.date]:
        t = tables.trade_cal
        async with self._sessions() as session:
            result = await session.execute(
                select(t.c.cal_date)
                .where(t.c.exchange == exchange, t.c.is_open.is_(True), t.c.cal_date.between(start, end))
                .order_by(t.c.cal_date)
            )
            return list(result.scalars())

    async def stock_lives(self, codes: Iterable[str] | None) -> dict[str, StockLife]:
        t = tables.stock_basic
        query = select(t.c.ts_code, t.c.list_date, t.c.delist_date)
        if codes is not None:
            query = query.where(in_values(t.c.ts_code, list(codes), self._dialect))
        async with self._sessions() as session:
            return {row.ts_code: StockLife(row.list_date, row.delist_date) for row in (await session.execute(query)).all()}


Row = dict[str, Any]


def sort_out(
    rows: Sequence[Row], stored_of: Callable[[Row], Any], differs: Callable[[Any, Row], bool]
) -> tuple[list[Row], list[Row], int]:
    """The rows the table lacks, those whose stored copy differs, and how many match theirs."""
    new: list[Row] = []
    changed: list[Row] = []
    unchanged = 0
    for row in rows:
        stored = stored_of(row)
        if stored is None:
            new.append(row)
        elif differs(stored, row):
            changed.append(row)
        else:
            unchanged += 1
    return new, changed, unchanged
