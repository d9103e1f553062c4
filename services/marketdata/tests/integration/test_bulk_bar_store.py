"""The bulk bar store on real PostgreSQL (partitioned, binary COPY) and on SQLite:
exact write counts, atomic rejection of bad frames, lossless round trips."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from services.marketdata.tests.integration.bar_schema import fresh_bar_tables
from zquant_kit.persistence.blocks import postgres_writes
from zquant_kit.testing import SHARED_DATA, conninfo, psycopg_engine
from zquant_marketdata.adapters.sqlalchemy.bar_tables import (
    BAR_TABLES,
    BLOCK_STALENESS,
    FIRST_PARTITION_YEAR,
    LAST_PARTITION_YEAR,
    bar_table,
    block_table_name,
    create_sqlite_bar_tables,
    postgres_blocks_create_ddl,
    postgres_create_ddl,
    postgres_drop_ddl,
)
from zquant_marketdata.adapters.sqlalchemy.bulk_bar_store import PostgresBulkBarStore, SqliteBulkBarStore
from zquant_marketdata.application.bar_store_port import BarStore, WriteCounts

pytestmark = pytest.mark.integration

DATA_DIR = SHARED_DATA / "a_share"
ALL_TIME = (date(1900, 1, 1), date(2100, 1, 1))


def _tushare_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / f"{name}.csv", dtype={"ts_code": str})


@pytest.fixture(scope="module")
def daily_rows() -> pd.DataFrame:
    """Real Tushare daily bars: trade_date is a YYYYMMDD int and `amount` is absent (NULL)."""
    return _tushare_csv("daily")


@pytest.fixture(scope="module")
def postgres_bar_tables(module_pg_database: str) -> str:
    postgres_database = conninfo(module_pg_database)
    fresh_bar_tables(postgres_database)
    return postgres_database


@pytest.fixture(params=["postgres", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BarStore]:
    if request.param == "postgres":
        conninfo = request.getfixturevalue("postgres_bar_tables")
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
            names = ", ".join(
                [f"marketdata.{name}" for name in BAR_TABLES]
                + [f"marketdata.{block_table_name(name)}" for name in BAR_TABLES]
                + [f"marketdata.{BLOCK_STALENESS}"]
            )
            await connection.execute(f"TRUNCATE {names}")
        engine = psycopg_engine(conninfo)
        yield PostgresBulkBarStore(engine)
    else:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'bars.db'}")
        async with engine.begin() as connection:
            await connection.run_sync(create_sqlite_bar_tables)
        yield SqliteBulkBarStore(engine)
    await engine.dispose()


def _as_stored(dataset: str, frame: pd.DataFrame) -> pd.DataFrame:
    """What read_bars should return for a frame that was written."""
    expected = pd.DataFrame({"ts_code": frame["ts_code"].astype("str")})
    expected["trade_date"] = pd.to_datetime(frame["trade_date"].astype("str"), format="ISO8601")
    for column in bar_table(dataset).columns:
        if column.name not in expected:
            expected[column.name] = frame.get(column.name, np.nan)
    expected = expected.astype({"trade_date": "datetime64[ns]"})
    return expected.sort_values(["ts_code", "trade_date"]).reset_index(drop=True)


async def _assert_stored(store: BarStore, dataset: str, frame: pd.DataFrame) -> None:
    stored = await store.read_bars(dataset, None, *ALL_TIME)
    pd.testing.assert_frame_equal(stored, _as_stored(dataset, frame), check_dtype=False, check_exact=True)


async def test_first_load_inserts_every_row_and_reads_back_exactly(store: BarStore, daily_rows: pd.DataFrame):
    counts = await store.write("daily", daily_rows)

    assert counts == WriteCounts(inserted=len(daily_rows), updated=0, unchanged=0)
    await _assert_stored(store, "daily", daily_rows)
    assert await store.last_trade_date("daily") == date(2023, 8, 29)
    assert await store.last_trade_date("adj_factor") is None


async def test_rewriting_the_same_frame_changes_nothing(store: BarStore, daily_rows: pd.DataFrame):
    await store.write("daily", daily_rows)

    counts = await store.write("daily", daily_rows)

    assert counts == WriteCounts(inserted=0, updated=0, unchanged=len(daily_rows))


async def test_changed_and_new_rows_are_counted_exactly(store: BarStore, daily_rows: pd.DataFrame):
    cutoff = 20230601
    stored_before = daily_rows[daily_rows["trade_date"] < cutoff]
    await store.write("daily", stored_before)
    revised = daily_rows.copy()
    old_rows = np.flatnonzero(revised["trade_date"] < cutoff)
    changed_rows = old_rows[::2]
    revised.loc[changed_rows, "close"] += 0.01
    revised.loc[changed_rows[::3], "amount"] = 1e6

    counts = await store.write("daily", revised)

    assert counts == WriteCounts(
        inserted=len(daily_rows) - len(old_rows),
        updated=len(changed_rows),
        unchanged=len(old_rows) - len(changed_rows),
    )
    assert counts.total == len(revised)
    await _assert_stored(store, "daily", revised)


def _break_code(frame: pd.DataFrame) -> None:
    frame.loc[7, "ts_code"] = None


def _break_date(frame: pd.DataFrame) -> None:
    frame["trade_date"] = frame["trade_date"].astype("object")
    frame.loc[7, "trade_date"] = None


def _break_close(frame: pd.DataFrame) -> None:
    frame.loc[7, "close"] = np.nan


def _duplicate_key(frame: pd.DataFrame) -> None:
    frame.loc[7, ["ts_code", "trade_date"]] = frame.loc[3, ["ts_code", "trade_date"]].to_numpy()


def _drop_close(frame: pd.DataFrame) -> None:
    del frame["close"]


def _unparsable_date(frame: pd.DataFrame) -> None:
    frame["trade_date"] = frame["trade_date"].astype("str")
    frame.loc[7, "trade_date"] = "2023-13-45"


@pytest.mark.parametrize(
    ("break_frame", "message"),
    [
        (_break_code, r"daily\.ts_code: 1 null"),
        (_break_date, r"daily\.trade_date: 1 null"),
        (_break_close, r"daily\.close: 1 null value\(s\) in a NOT NULL column"),
        (_duplicate_key, r"daily: duplicate \(ts_code, trade_date\)"),
        (_drop_close, r"daily: missing required column 'close'"),
        (_unparsable_date, r"daily\.trade_date: not a date"),
    ],
    ids=["null code", "null date", "null close", "duplicate key", "missing column", "bad date"],
)
async def test_a_bad_frame_raises_and_writes_nothing(
    store: BarStore, daily_rows: pd.DataFrame, break_frame: Callable[[pd.DataFrame], None], message: str
):
    first_half = daily_rows.iloc[: len(daily_rows) // 2]
    await store.write("daily", first_half)
    bad = daily_rows.copy()
    bad.loc[: len(bad) // 2, "close"] += 1.0
    break_frame(bad)

    with pytest.raises(ValueError, match=message):
        await store.write("daily", bad)

    await _assert_stored(store, "daily", first_half)


async def test_an_unknown_dataset_is_refused(store: BarStore, daily_rows: pd.DataFrame):
    with pytest.raises(ValueError, match="unknown bar dataset 'weekly'"):
        await store.write("weekly", daily_rows)


async def test_an_empty_frame_is_a_no_op(store: BarStore, daily_rows: pd.DataFrame):
    assert await store.write("daily", daily_rows.iloc[:0]) == WriteCounts(0, 0, 0)
    assert (await store.read_bars("daily", None, *ALL_TIME)).empty


async def test_other_datasets_round_trip(store: BarStore):
    for dataset in ("adj_factor", "daily_basic"):
        frame = _tushare_csv(dataset)
        assert await store.write(dataset, frame) == WriteCounts(len(frame), 0, 0)
        await _assert_stored(store, dataset, frame)


async def test_nulls_and_code_lengths_round_trip(store: BarStore):
    """Mixed NULL patterns and ts_code lengths give the binary COPY rows of different layouts."""
    rng = np.random.default_rng(7)
    codes = np.array(["000001.SH", "399001.SZ", "X.BJ", "LONGER-CODE.HK", "8.SZ"])
    rows = 2_000
    frame = pd.DataFrame(
        {
            "ts_code": np.repeat(codes, rows // len(codes)),
            "trade_date": np.tile(pd.date_range("2018-12-01", periods=rows // len(codes)), len(codes)),
            "turnover_rate": rng.random(rows),
            "total_mv": rng.random(rows) * 1e9,
        }
    )
    for column in ("pe", "pb", "float_share", "total_share", "circ_mv", "volume_ratio"):
        frame[column] = np.where(rng.random(rows) < 0.3, np.nan, rng.normal(size=rows))

    assert await store.write("daily_basic", frame) == WriteCounts(rows, 0, 0)
    await _assert_stored(store, "daily_basic", frame)

    revised_rows = frame.index[::4]
    already_null = int(frame.loc[revised_rows, "pe"].isna().sum())
    frame.loc[revised_rows, "pe"] = np.nan
    assert await store.write("daily_basic", frame) == WriteCounts(
        0, len(revised_rows) - already_null, rows - len(revised_rows) + already_null
    )
    await _assert_stored(store, "daily_basic", frame)


async def test_read_bars_filters_codes_and_dates(store: BarStore, daily_rows: pd.DataFrame):
    await store.write("daily", daily_rows)

    bars = await store.read_bars("daily", ["601988.SH", "601288.SH"], date(2020, 1, 1), date(2020, 12, 31))

    wanted = daily_rows[
        daily_rows["ts_code"].isin(["601988.SH", "601288.SH"]) & daily_rows["trade_date"].between(20200101, 20201231)
    ]
    pd.testing.assert_frame_equal(bars, _as_stored("daily", wanted), check_dtype=False)
    assert list(bars["ts_code"].unique()) == ["601288.SH", "601988.SH"]
    assert (await store.read_bars("daily", ["NOPE.SH"], *ALL_TIME)).empty


async def test_postgres_partitions_hold_their_years(postgres_bar_tables: str, daily_rows: pd.DataFrame):
    async with await psycopg.AsyncConnection.connect(postgres_bar_tables, autocommit=True) as connection:
        await connection.execute("TRUNCATE marketdata.index_daily")
        store = PostgresBulkBarStore(connection)
        late = daily_rows.iloc[:3].assign(ts_code="000300.SH", trade_date=[20400102, 19850304, 20351231])
        await store.write("index_daily", pd.concat([daily_rows, late]).assign(amount=1.0))

        cursor = await connection.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'marketdata.index_daily'::regclass"
        )
        assert (await cursor.fetchone())[0] == LAST_PARTITION_YEAR - FIRST_PARTITION_YEAR + 2
        cursor = await connection.execute(
            "SELECT tableoid::regclass::text, extract(year FROM trade_date)::int, count(*) "
            "FROM marketdata.index_daily GROUP BY 1, 2"
        )
        placement = {(partition, year): count for partition, year, count in await cursor.fetchall()}
        assert await store.last_trade_date("index_daily") == date(2040, 1, 2)

    assert placement[("marketdata.index_daily_default", 2040)] == 1
    assert placement[("marketdata.index_daily_default", 1985)] == 1
    assert placement[("marketdata.index_daily_y2035", 2035)] == 1
    for (partition, year) in placement:
        if year in range(FIRST_PARTITION_YEAR, LAST_PARTITION_YEAR + 1):
            assert partition == f"marketdata.index_daily_y{year}"
    assert sum(placement.values()) == len(daily_rows) + 3


async def test_postgres_first_load_copies_straight_into_the_table(
    postgres_bar_tables: str, daily_rows: pd.DataFrame, caplog: pytest.LogCaptureFixture
):
    async with await psycopg.AsyncConnection.connect(postgres_bar_tables, autocommit=True) as connection:
        await connection.execute("TRUNCATE marketdata.daily")
        store = PostgresBulkBarStore(connection)
        caplog.set_level(logging.DEBUG, logger=postgres_writes.__name__)
        codes = daily_rows["ts_code"].unique()
        first_codes = daily_rows[daily_rows["ts_code"].isin(codes[:2])]
        other_codes = daily_rows[~daily_rows["ts_code"].isin(codes[:2])]

        assert await store.write("daily", first_codes) == WriteCounts(len(first_codes), 0, 0)
        assert await store.write("daily", other_codes) == WriteCounts(len(other_codes), 0, 0)
        assert _store_log(caplog) == [
            f"daily: {len(first_codes)} rows copied straight into an empty range",
            f"daily: {len(other_codes)} rows copied straight into an empty range",
        ]

        caplog.clear()
        assert await store.write("daily", daily_rows) == WriteCounts(0, 0, len(daily_rows))
        assert _store_log(caplog)[0].startswith(f"daily: merged {len(daily_rows)} rows via staging")


def _store_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == postgres_writes.__name__]


async def test_postgres_range_check_race_falls_back_to_merging(
    postgres_bar_tables: str, daily_rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
):
    """A writer that fills the range after the emptiness check makes COPY hit the key: merge instead."""
    async with await psycopg.AsyncConnection.connect(postgres_bar_tables, autocommit=True) as connection:
        await connection.execute("TRUNCATE marketdata.daily")
        store = PostgresBulkBarStore(connection)
        await store.write("daily", daily_rows.iloc[:100])

        async def range_looks_empty(*_args: object) -> bool:
            return False

        monkeypatch.setattr(store, "_holds_rows_in_range", range_looks_empty)
        revised = daily_rows.copy()
        revised.loc[:9, "close"] += 1.0

        assert await store.write("daily", revised) == WriteCounts(len(daily_rows) - 100, 10, 90)
        await _assert_stored(store, "daily", revised)


async def test_postgres_a_failing_merge_rolls_back_its_inserts(postgres_bar_tables: str, daily_rows: pd.DataFrame):
    """New rows are inserted before stored ones are updated: a failing update must take them back."""
    async with await psycopg.AsyncConnection.connect(postgres_bar_tables, autocommit=True) as connection:
        await connection.execute("TRUNCATE marketdata.daily")
        store = PostgresBulkBarStore(connection)
        first_half = daily_rows.iloc[: len(daily_rows) // 2]
        await store.write("daily", first_half)
        revised = daily_rows.copy()
        revised.loc[:9, "close"] += 1.0
        await connection.execute(
            "CREATE FUNCTION pg_temp.refuse_update() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'update refused'; END $$"
        )
        await connection.execute(
            "CREATE TRIGGER refuse_update BEFORE UPDATE ON marketdata.daily "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_update()"
        )
        try:
            with pytest.raises(psycopg.errors.RaiseException, match="update refused"):
                await store.write("daily", revised)
        finally:
            await connection.execute("DROP TRIGGER refuse_update ON marketdata.daily")

        await _assert_stored(store, "daily", first_half)


async def test_postgres_write_joins_the_callers_transaction(postgres_bar_tables: str, daily_rows: pd.DataFrame):
    async with await psycopg.AsyncConnection.connect(postgres_bar_tables, autocommit=True) as connection:
        await connection.execute("TRUNCATE marketdata.daily")
        store = PostgresBulkBarStore(connection)

        with pytest.raises(RuntimeError, match="caller gives up"):
            async with connection.transaction():
                await store.write("daily", daily_rows)
                await store.write("daily", daily_rows)
                raise RuntimeError("caller gives up")

        assert (await store.read_bars("daily", None, *ALL_TIME)).empty


def test_postgres_drop_ddl_removes_tables_and_partitions(module_pg_database: str):
    postgres_database = conninfo(module_pg_database)

    def daily_tables(connection: psycopg.Connection) -> int:
        query = "SELECT count(*) FROM pg_tables WHERE schemaname = 'marketdata' AND tablename ~ '^daily(_y\\d+|_default)?$'"
        return connection.execute(query).fetchone()[0]

    with psycopg.connect(postgres_database, autocommit=True) as connection:
        for statement in [*postgres_drop_ddl(), *postgres_create_ddl(2000, 2001)]:
            connection.execute(statement)
        assert daily_tables(connection) == 1 + 2 + 1
        for statement in postgres_drop_ddl():
            connection.execute(statement)
        assert daily_tables(connection) == 0
        for statement in [*postgres_create_ddl(), *postgres_blocks_create_ddl()]:
            connection.execute(statement)
        assert daily_tables(connection) == 1 + LAST_PARTITION_YEAR - FIRST_PARTITION_YEAR + 1 + 1
