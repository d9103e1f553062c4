"""SQLAlchemy Core adapter of the reference tables (stock_basic, trade_cal): upserts with exact counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict

from sqlalchemy import select

from zquant_kit.persistence.params import in_values
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.sql_store import SqlStore
from zquant_marketdata.application.bar_store_port import WriteCounts
from zquant_marketdata.application.source_port import CalendarDay, StockRecord
from zquant_marketdata.application.sync_ports import ReferenceDataReader, ReferenceDataWriter, StockLife

_STOCK_FIELDS = ("symbol", "name", "area", "industry", "market", "exchange", "list_status", "list_date", "delist_date")


class SqlAlchemyReferenceRepository(SqlStore, ReferenceDataWriter, ReferenceDataReader):
    async def upsert_stock_basic(self, records: Sequence[StockRecord], now: dt.datetime) -> WriteCounts:
        rows = [asdict(record) for record in records]
        t = tables.stock_basic
        inserted = updated = unchanged = 0
        async with self._sessions() as session:
            existing = {
                row.ts_code: row
                for row in (await session.execute(select(t).where(t.c.ts_code.in_([r["ts_code"] for r in rows])))).all()
            }
            new, changed = [], []
            for row in rows:
                stored = existing.get(row["ts_code"])
                if stored is None:
                    new.append({**row, "updated_at": now})
                    inserted += 1
                elif any(getattr(stored, name) != row.get(name) for name in _STOCK_FIELDS):
                    changed.append({**row, "updated_at": now})
                    updated += 1
                else:
                    unchanged += 1
            if new:
                await session.execute(t.insert(), new)
            for row in changed:
                await session.execute(
                    t.update().where(t.c.ts_code == row["ts_code"]).values({k: v for k, v in row.items() if k != "ts_code"})
                )
            await session.commit()
        return WriteCounts(inserted=inserted, updated=updated, unchanged=unchanged)

    async def upsert_trade_cal(self, records: Sequence[CalendarDay]) -> WriteCounts:
        rows = [asdict(record) for record in records]
        if not rows:
            return WriteCounts(0, 0, 0)
        t = tables.trade_cal
        inserted = updated = unchanged = 0
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
            new, changed = [], []
            for row in rows:
                stored = existing.get((row["exchange"], row["cal_date"]))
                if stored is None:
                    new.append(row)
                    inserted += 1
                elif stored.is_open != row["is_open"] or stored.pretrade_date != row["pretrade_date"]:
                    changed.append(row)
                    updated += 1
                else:
                    unchanged += 1
            if new:
                await session.execute(t.insert(), new)
            for row in changed:
                await session.execute(
                    t.update()
                    .where(t.c.exchange == row["exchange"], t.c.cal_date == row["cal_date"])
                    .values(is_open=row["is_open"], pretrade_date=row["pretrade_date"])
                )
            await session.commit()
        return WriteCounts(inserted=inserted, updated=updated, unchanged=unchanged)

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
