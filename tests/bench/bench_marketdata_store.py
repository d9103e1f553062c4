"""Bulk bar store on PostgreSQL: first load and upsert, next to SQLAlchemy ORM inserts.

Targets (marketdata issue): first load ≥ 250k rows/s and ≥ 10× ORM `add_all` measured in the same
run; upsert of 250k rows over stored data (half changed) ≥ 100k rows/s with exact counts.
Scale with ZQUANT_BENCH_STOCKS / ZQUANT_BENCH_DAYS (default 5000 × 2500). Uses a throw-away
database `zq_bench_<uuid>` on ZQUANT_BENCH_PG_DSN (default the local postgres), dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import Column, Date, Double, MetaData, Table, Text, create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session, registry

from zquant_marketdata.adapters.sqlalchemy.bar_tables import postgres_blocks_create_ddl, postgres_create_ddl
from zquant_marketdata.adapters.sqlalchemy.bulk_bar_store import PostgresBulkBarStore
from zquant_marketdata.application.bar_store_port import WriteCounts

ADMIN_DSN = os.environ.get("ZQUANT_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
STOCKS = int(os.environ.get("ZQUANT_BENCH_STOCKS", "5000"))
DAYS = int(os.environ.get("ZQUANT_BENCH_DAYS", "2500"))
CODES_PER_WRITE = 200
ORM_ROWS = 50_000
UPSERT_ROWS = 250_000
VALUE_COLUMNS = ("open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "amount")


def trade_days(count: int) -> np.ndarray:
    start = np.datetime64("2012-01-02")
    return np.busday_offset(start, np.arange(count), roll="forward").astype("datetime64[D]")


def codes(count: int) -> list[str]:
    return [f"{600000 + i:06d}.SH" if i < 500_000 else f"{i:06d}.SZ" for i in range(count)]


def daily_frame(names: list[str], days: np.ndarray, seed: int) -> pd.DataFrame:
    """Synthetic bars: a random walk per code; ts_code categorical to keep memory down."""
    rng = np.random.default_rng(seed)
    n_codes, n_days = len(names), days.size
    close = 10 * np.exp(np.cumsum(rng.normal(0, 0.02, (n_codes, n_days)), axis=1))
    pre_close = np.concatenate([close[:, :1], close[:, :-1]], axis=1)
    frame = pd.DataFrame(
        {
            "ts_code": pd.Categorical.from_codes(np.repeat(np.arange(n_codes), n_days), categories=names),
            "trade_date": np.tile(days, n_codes),
            "open": (pre_close * (1 + rng.normal(0, 0.005, close.shape))).ravel(),
            "high": (close * 1.01).ravel(),
            "low": (close * 0.99).ravel(),
            "close": close.ravel(),
            "pre_close": pre_close.ravel(),
            "vol": rng.integers(1_000, 1_000_000, close.size).astype(np.float64),
            "amount": rng.uniform(1e3, 1e6, close.size),
        }
    )
    frame["change"] = frame["close"] - frame["pre_close"]
    frame["pct_chg"] = frame["change"] / frame["pre_close"] * 100
    return frame


async def first_load(store: PostgresBulkBarStore, names: list[str], days: np.ndarray) -> tuple[int, float]:
    rows, elapsed = 0, 0.0
    for offset in range(0, len(names), CODES_PER_WRITE):
        frame = daily_frame(names[offset : offset + CODES_PER_WRITE], days, seed=offset)
        started = time.perf_counter()
        counts = await store.write("daily", frame)
        elapsed += time.perf_counter() - started
        assert counts == WriteCounts(inserted=len(frame), updated=0, unchanged=0), counts
        rows += len(frame)
    return rows, elapsed


def orm_insert(sync_url: str, days: np.ndarray) -> float:
    """The ORM reference: mapped objects, `Session.add_all`, one commit."""
    mapper = registry()

    class OrmBar:
        pass

    table_columns = [Column("ts_code", Text, primary_key=True), Column("trade_date", Date, primary_key=True)]
    table_columns += [Column(name, Double) for name in VALUE_COLUMNS]
    table = Table("orm_daily", MetaData(schema="public"), *table_columns)
    mapper.map_imperatively(OrmBar, table)
    engine = create_engine(sync_url)
    table.metadata.create_all(engine)
    per_code = min(days.size, 1000)
    frame = daily_frame([f"ORM{i:05d}.SH" for i in range(-(-ORM_ROWS // per_code))], days[:per_code], seed=99)
    frame = frame.head(ORM_ROWS)
    records = frame.assign(ts_code=frame.ts_code.astype(str), trade_date=frame.trade_date.dt.date).to_dict("records")
    started = time.perf_counter()
    with Session(engine) as session:
        objects = []
        for record in records:
            bar = OrmBar()
            for key, value in record.items():
                setattr(bar, key, value)
            objects.append(bar)
        session.add_all(objects)
        session.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return len(records) / elapsed


async def upsert(store: PostgresBulkBarStore, names: list[str], days: np.ndarray) -> tuple[int, float]:
    batches, rows = [], 0
    for offset in range(0, len(names), CODES_PER_WRITE):  # the very rows the first load wrote
        if rows >= UPSERT_ROWS:
            break
        batches.append(daily_frame(names[offset : offset + CODES_PER_WRITE], days, seed=offset))
        rows += len(batches[-1])
    frame = pd.concat(batches, ignore_index=True).head(UPSERT_ROWS).copy()
    changed = np.arange(len(frame)) % 2 == 0
    frame.loc[changed, "close"] = frame.loc[changed, "close"] * 1.01
    started = time.perf_counter()
    counts = await store.write("daily", frame)
    elapsed = time.perf_counter() - started
    expected = WriteCounts(inserted=0, updated=int(changed.sum()), unchanged=len(frame) - int(changed.sum()))
    assert counts == expected, (counts, expected)
    print(f"upsert counts            {counts}  (exact, asserted)")
    return len(frame), len(frame) / elapsed


async def main() -> None:
    name = f"zq_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    conninfo = psycopg.conninfo.make_conninfo(ADMIN_DSN, dbname=name)
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            for statement in [*postgres_create_ddl(), *postgres_blocks_create_ddl()]:
                connection.execute(statement)
        engine = create_async_engine(f"{base}/{name}")
        store = PostgresBulkBarStore(engine)
        names, days = codes(STOCKS), trade_days(DAYS)
        print(f"scale                    {STOCKS} stocks × {DAYS} days = {STOCKS * DAYS:,} rows of daily")

        rows, elapsed = await first_load(store, names, days)
        load_rps = rows / elapsed
        orm_rps = await asyncio.to_thread(orm_insert, f"{base}/{name}", days)
        upsert_rows, upsert_rps = await upsert(store, names, days)
        started = time.perf_counter()  # after the upsert, which touched every year: all are rebuilt
        years = await store.refresh_blocks()
        refresh_elapsed = time.perf_counter() - started
        await engine.dispose()
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    ratio = load_rps / orm_rps
    print(f"first load (binary COPY) {load_rps:,.0f} rows/s  ({rows:,} rows in {elapsed:.1f} s)"
          f"  {'meets' if load_rps >= 250_000 else 'misses'} the ≥ 250k rows/s target")
    print(f"block refresh            {rows / refresh_elapsed:,.0f} rows/s  ({years} years rebuilt in "
          f"{refresh_elapsed:.1f} s; a sync run does this once when it ends, off the write path)")
    print(f"ORM add_all reference    {orm_rps:,.0f} rows/s  ({ORM_ROWS:,} rows)")
    print(f"first load / ORM         {ratio:.1f}x  ({'meets' if ratio >= 10 else 'misses'} the ≥ 10x target)")
    print(f"upsert (half changed)    {upsert_rps:,.0f} rows/s  ({upsert_rows:,} rows)"
          f"  {'meets' if upsert_rps >= 100_000 else 'misses'} the ≥ 100k rows/s target")


if __name__ == "__main__":
    asyncio.run(main())
