"""The per-(code, year) bar blocks on real PostgreSQL: writes mark their years stale in their own
transaction, reads take stale years from the rows, a refresh rebuilds them, and a refresh racing an
uncommitted write never serves that write's year as current without it."""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np
import pandas as pd
import psycopg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from services.marketdata.tests.integration.bar_schema import fresh_bar_tables
from zquant_kit import testing
from zquant_kit.persistence import migrations
from zquant_kit.service import discover
from zquant_kit.testing import SHARED_DATA, conninfo, psycopg_engine
from zquant_marketdata.adapters.sqlalchemy.bar_tables import (
    BLOCK_STALENESS,
    SCHEMA,
)
from zquant_marketdata.adapters.sqlalchemy.bulk_bar_store import PostgresBulkBarStore
from zquant_marketdata.adapters.sqlalchemy.query_repository import SqlMarketQueryRepository

pytestmark = pytest.mark.integration

DATA = SHARED_DATA / "a_share"
ALL = (dt.date(2019, 1, 1), dt.date(2023, 12, 31))
COLUMNS = ["open", "close", "vol"]


@pytest.fixture
async def stack(module_pg_database):
    postgres_database = conninfo(module_pg_database)
    fresh_bar_tables(postgres_database)
    engine = psycopg_engine(postgres_database)
    yield postgres_database, PostgresBulkBarStore(engine), SqlMarketQueryRepository(engine)
    await engine.dispose()


def _daily() -> pd.DataFrame:
    return pd.read_csv(DATA / "daily.csv", dtype={"ts_code": str})


async def _stale(conninfo: str) -> list[tuple[str, int]]:
    async with await psycopg.AsyncConnection.connect(conninfo) as connection:
        cursor = await connection.execute(f"SELECT dataset, year FROM {SCHEMA}.{BLOCK_STALENESS} ORDER BY 1, 2")
        return [tuple(row) for row in await cursor.fetchall()]


async def _close_on(repository, code: str, day: dt.date) -> float:
    rows = await repository.read_rows("daily", [code], day, day, ["close"])
    assert rows.size == 1
    return float(rows.values["close"][0])


def _sorted(rows) -> pd.DataFrame:
    frame = pd.DataFrame({"code": np.array(rows.codes)[rows.code_index], "day": rows.days, **rows.values})
    return frame.sort_values(["code", "day"], ignore_index=True)


async def test_refresh_builds_blocks_that_read_exactly_like_the_rows(stack):
    conninfo, store, repository = stack
    daily = _daily()
    await store.write("daily", daily)
    assert await _stale(conninfo) == [("daily", year) for year in range(2019, 2024)]
    from_rows = _sorted(await repository.read_rows("daily", None, *ALL, COLUMNS))

    assert await store.refresh_blocks() == 5
    assert await _stale(conninfo) == []
    from_blocks = _sorted(await repository.read_rows("daily", None, *ALL, COLUMNS))
    pd.testing.assert_frame_equal(from_blocks, from_rows)
    assert len(from_blocks) == len(daily)

    # Writing the same rows again changes nothing, so nothing goes stale.
    counts = await store.write("daily", daily)
    assert (counts.inserted, counts.updated) == (0, 0)
    assert await _stale(conninfo) == [] and await store.refresh_blocks() == 0


async def test_a_year_written_after_a_refresh_is_read_from_the_rows_until_the_next(stack):
    conninfo, store, repository = stack
    daily = _daily()
    await store.write("daily", daily)
    await store.refresh_blocks()
    day = dt.date(2021, 6, 1)
    changed = daily[(daily.ts_code == "601398.SH") & (daily.trade_date == 20210601)].assign(close=99.5)
    assert (await store.write("daily", changed)).updated == 1
    assert await _stale(conninfo) == [("daily", 2021)]

    assert await _close_on(repository, "601398.SH", day) == 99.5
    mixed = _sorted(await repository.read_rows("daily", None, *ALL, COLUMNS))
    assert len(mixed) == len(daily) and (mixed.close == 99.5).sum() == 1

    assert await store.refresh_blocks() == 1
    assert await _close_on(repository, "601398.SH", day) == 99.5
    pd.testing.assert_frame_equal(_sorted(await repository.read_rows("daily", None, *ALL, COLUMNS)), mixed)


async def test_a_refresh_racing_an_uncommitted_write_never_drops_it(stack):
    conninfo, store, repository = stack
    daily = _daily()
    await store.write("daily", daily)
    await store.refresh_blocks()
    one = lambda code, day, close: daily[(daily.ts_code == code) & (daily.trade_date == day)].assign(close=close)  # noqa: E731

    async with await psycopg.AsyncConnection.connect(conninfo) as writer:
        # No marker committed yet: the refresh has nothing to do, and the write marks 2022 when it commits.
        async with writer.transaction():
            await PostgresBulkBarStore(writer).write("daily", one("601939.SH", 20220301, 42.25))
            assert await store.refresh_blocks() == 0
        assert await _stale(conninfo) == [("daily", 2022)]

        # 2022 is marked and a second write holds the marker: the refresh waits, then includes it.
        async with writer.transaction():
            await PostgresBulkBarStore(writer).write("daily", one("601988.SH", 20220302, 7.75))
            refresh = asyncio.create_task(store.refresh_blocks())
            await asyncio.sleep(0.5)
            assert not refresh.done()
        assert await asyncio.wait_for(refresh, 30) == 1

    assert await _stale(conninfo) == []
    assert await _close_on(repository, "601939.SH", dt.date(2022, 3, 1)) == 42.25
    assert await _close_on(repository, "601988.SH", dt.date(2022, 3, 2)) == 7.75


async def test_reads_cut_blocks_to_the_range_and_the_codes_asked_for(stack):
    _, store, repository = stack
    await store.write("daily", _daily())
    await store.refresh_blocks()
    rows = await repository.read_rows("daily", ["601398.SH", "601288.SH"], dt.date(2023, 7, 14),
                                      dt.date(2023, 7, 18), ["close"])
    assert rows.codes == ["601288.SH", "601398.SH"] and rows.size == 6
    assert str(rows.days.min()) == "2023-07-14" and str(rows.days.max()) == "2023-07-18"
    runs = await repository.read_runs("daily", None, dt.date(2020, 12, 30), dt.date(2021, 1, 5), ["close"])
    assert runs.codes == {"601288.SH", "601398.SH", "601939.SH", "601988.SH"}
    assert [str(day) for day in runs.unique_days()] == ["2020-12-30", "2020-12-31", "2021-01-04", "2021-01-05"]
    assert runs.size == 16


async def test_migration_0004_marks_the_years_already_stored_stale(pg_database):
    definition = discover()["marketdata"]
    await migrations.upgrade(definition.migrations, pg_database, definition.schema, "0003")
    conninfo = testing.conninfo(pg_database)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(
            f"INSERT INTO {SCHEMA}.daily (ts_code, trade_date, open, high, low, close, pre_close, change, pct_chg, vol) "
            "VALUES ('601398.SH', '2021-03-01', 5, 5, 5, 5, 5, 0, 0, 1), ('601398.SH', '2023-03-01', 4, 4, 4, 4, 4, 0, 0, 1)"
        )
    await migrations.upgrade(definition.migrations, pg_database, definition.schema, "head")
    assert await _stale(conninfo) == [("daily", 2021), ("daily", 2023)]

    engine = create_async_engine(pg_database)
    try:
        assert await PostgresBulkBarStore(engine).refresh_blocks() == 2
        rows = await SqlMarketQueryRepository(engine).read_rows("daily", None, *ALL, ["close"])
        assert sorted(rows.values["close"].tolist()) == [4.0, 5.0]
    finally:
        await engine.dispose()
