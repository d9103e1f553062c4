"""The read repository on PostgreSQL (years from the blocks or, while stale, aggregated from the
rows; year slices) and SQLite (rows, decoded in-process or in a worker process): all answer the
same for the same stored data, for any number of codes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert

from services.marketdata.tests.integration.bar_schema import fresh_bar_tables
from zquant_kit.persistence.engine import create_engine
from zquant_kit.testing import SHARED_DATA, conninfo, psycopg_engine
from zquant_kit.workers import WorkerProcesses
from zquant_marketdata.adapters.sqlalchemy import query_repository, sqlite_reads, tables
from zquant_marketdata.adapters.sqlalchemy.bar_tables import (
    SCHEMA,
    create_sqlite_bar_tables,
)
from zquant_marketdata.adapters.sqlalchemy.bulk_bar_store import PostgresBulkBarStore, SqliteBulkBarStore
from zquant_marketdata.adapters.sqlalchemy.query_repository import SqlMarketQueryRepository
from zquant_marketdata.application.query_ports import StockFilter

pytestmark = pytest.mark.integration

DATA = SHARED_DATA / "a_share"
ALL = (dt.date(2019, 1, 1), dt.date(2023, 12, 31))


def _csv(name):
    return pd.read_csv(DATA / f"{name}.csv", dtype={"ts_code": str, "trade_date": str})


async def _fill(engine, store):
    daily = _csv("daily")
    await store.write("daily", daily.assign(amount=np.where(daily.index % 3 == 0, np.nan, 1.5)))
    await store.write("adj_factor", _csv("adj_factor"))
    now = dt.datetime.now(dt.UTC)
    stocks = _csv("stock_basic").astype({"symbol": str})
    rows = [{**r, "area": None, "delist_date": None, "updated_at": now,
             "list_date": dt.datetime.strptime(str(r["list_date"]), "%Y%m%d").date()} for r in stocks.to_dict("records")]
    async with engine.begin() as connection:
        await connection.execute(insert(tables.stock_basic), rows)


async def _repository(kind: str, postgres_database, tmp_path, monkeypatch):
    if kind.startswith("postgres"):
        fresh_bar_tables(postgres_database)
        engine = psycopg_engine(postgres_database)
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: tables.stock_basic.create(c))
        store = PostgresBulkBarStore(engine)
    else:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/md.db", SCHEMA)
        async with engine.begin() as connection:
            await connection.run_sync(create_sqlite_bar_tables)  # every table of the shared metadata
        store = SqliteBulkBarStore(engine)
    await _fill(engine, store)
    if kind == "postgres-blocks":
        assert await store.refresh_blocks() == 10  # daily and adj_factor × 2019…2023
    workers = None
    if kind == "sqlite-workers":
        monkeypatch.setattr(query_repository, "WORKER_MIN_ROWS", 1)  # every bar read decodes in the worker
        workers = WorkerProcesses(1, preload=[sqlite_reads.__name__])
    yield SqlMarketQueryRepository(engine, workers)
    if workers is not None:
        await workers.close()
    await engine.dispose()


@pytest.fixture(params=["postgres-rows", "postgres-blocks", "sqlite", "sqlite-workers"])
async def repository(request, module_pg_database, tmp_path, monkeypatch):
    async for found in _repository(request.param, conninfo(module_pg_database), tmp_path, monkeypatch):
        yield found


@pytest.fixture(params=["postgres-rows", "sqlite", "sqlite-workers"])
async def code_list_repository(request, module_pg_database, tmp_path, monkeypatch):
    """Code lists bind the same way whether a year comes from blocks or rows: no blocks variant."""
    async for found in _repository(request.param, conninfo(module_pg_database), tmp_path, monkeypatch):
        yield found


async def test_read_rows_round_trip_with_nulls_and_date_slices(repository, monkeypatch):
    monkeypatch.setattr(query_repository, "_PARALLEL_MIN_CODES", 1)  # four codes over 4+ years: sliced
    rows = await repository.read_rows("daily", None, *ALL, ["close", "amount"])
    assert rows.codes == ["601288.SH", "601398.SH", "601939.SH", "601988.SH"]
    assert rows.size == 4528
    daily = _csv("daily")
    order = np.lexsort((rows.days, rows.code_index))
    expected = daily.sort_values(["ts_code", "trade_date"])
    np.testing.assert_array_equal(rows.values["close"][order], expected.close.to_numpy())
    assert np.isnan(rows.values["amount"]).sum() == (np.arange(len(daily)) % 3 == 0).sum()
    got_days = np.datetime_as_string(rows.days[order], unit="D")
    assert [d.replace("-", "") for d in got_days[:2]] == list(expected.trade_date[:2])

    picked = await repository.read_rows("daily", ["601398.SH"], dt.date(2023, 7, 14), dt.date(2023, 7, 17), ["close"])
    assert picked.codes == ["601398.SH"] and sorted(picked.values["close"].tolist()) == [4.57, 4.87]
    assert (await repository.read_rows("daily", [], *ALL, ["close"])).size == 0
    assert (await repository.read_rows("daily", ["NOPE"], *ALL, ["close"])).size == 0
    with pytest.raises(ValueError):
        await repository.read_rows("daily", None, *ALL, ["ts_code"])


async def test_factors_on_or_before_and_reference_data(repository):
    found = await repository.factors_on_or_before(["601398.SH", "601939.SH", "NOPE"], dt.date(2023, 7, 16))
    assert found.codes == ["601398.SH", "601939.SH"]
    assert found.values["adj_factor"][found.codes.index("601398.SH") == found.code_index][0] == 2.106013
    assert str(found.days[found.code_index == 0][0]) == "2023-07-14"
    assert (await repository.factors_on_or_before(["601398.SH"], dt.date(2000, 1, 1))).size == 0

    assert await repository.unknown_codes("daily", ["601398.SH", "X1", "X2"]) == ["X1", "X2"]
    assert await repository.count_rows("daily", ["601398.SH"], dt.date(2023, 7, 14), dt.date(2023, 7, 18)) == 3
    page = await repository.list_stocks(StockFilter(query="银行"), "601288.SH", 2)
    assert [s.ts_code for s in page] == ["601398.SH", "601939.SH"]
    assert (await repository.get_stock("601988.SH")).name == "中国银行"
    assert await repository.get_stock("NOPE") is None


async def test_a_hundred_thousand_codes_stay_one_parameter(code_list_repository):
    """Past PostgreSQL's 65,535 and SQLite's 32,766 bound parameters, every code-list read still works."""
    repository = code_list_repository
    codes = [f"{n:06d}.SZ" for n in range(100_000)] + ["601398.SH"]
    day = (dt.date(2023, 7, 14), dt.date(2023, 7, 17))
    assert len(await repository.unknown_codes("daily", codes)) == 100_000
    assert await repository.count_rows("daily", codes, *day) == 2
    rows = await repository.read_rows("daily", codes, *day, ["close"])
    assert rows.codes == ["601398.SH"] and sorted(rows.values["close"].tolist()) == [4.57, 4.87]
    runs = await repository.read_runs("daily", codes, *day, ["close"])
    assert runs.codes == {"601398.SH"} and runs.size == 2
    found = await repository.factors_on_or_before(codes, dt.date(2023, 7, 16))
    assert found.codes == ["601398.SH"]
