"""Sync from the fake Tushare server (serving shared/data through the real SDK and adapter)
into real PostgreSQL: exact counts, idempotent re-sync, checkpoints, resume after a failure,
cancellation, logs and statistics, validation, and load-csv."""

from __future__ import annotations

import asyncio
import datetime as dt

import pandas as pd
import psycopg
import pytest
from cryptography.fernet import Fernet

from services.marketdata.tests.fakes.fake_tushare import Failure, FakeTushareServer
from services.marketdata.tests.fakes.gated_source import GatedSource
from zquant_kit.clock import SystemClock
from zquant_kit.errors import FailedPrecondition
from zquant_kit.persistence.engine import create_engine, session_factory
from zquant_kit.runner import upgrade_all
from zquant_kit.service import discover
from zquant_kit.settings import Settings
from zquant_kit.testing import SHARED_DATA, conninfo
from zquant_marketdata import cli
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.bulk_bar_store import PostgresBulkBarStore
from zquant_marketdata.application.sync import SyncUseCases
from zquant_marketdata.application.sync_ports import SourceChoice
from zquant_marketdata.application.validate import ValidationRequest
from zquant_marketdata.bootstrap.config import MarketDataConfig
from zquant_marketdata.bootstrap.sync import build
from zquant_marketdata.domain.sync import LogResult, RunState, SyncMode

pytestmark = pytest.mark.integration

SHARED = SHARED_DATA
TOKEN = "fake-token-0123456789"
START, END = "20230601", "20230829"
BANKS = 4
OWN_TABLES = (
    "daily", "adj_factor", "daily_basic", "index_daily", "stk_factor", "stock_basic", "trade_cal",
    "sync_runs", "sync_checkpoints", "sync_logs", "table_statistics", "source_config", "sync_leases",
)  # fmt: skip


@pytest.fixture(scope="module")
def server():
    with FakeTushareServer.from_data_dir(SHARED, token=TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def open_days() -> list[str]:
    daily = pd.read_csv(SHARED / "a_share" / "daily.csv", dtype={"trade_date": str})
    return sorted(d for d in set(daily["trade_date"]) if START <= d <= END)


@pytest.fixture(scope="module")
def migrated_database(module_pg_database: str) -> str:
    """One migrated database per module (migrating costs ~1.5 s); tests truncate it."""
    url = module_pg_database
    asyncio.run(upgrade_all([discover()["marketdata"]], Settings({"ZQUANT_MARKETDATA_DATABASE_URL": url})))
    return url


@pytest.fixture
async def env(migrated_database, server):
    pg_database = migrated_database
    server.reset()
    with psycopg.connect(conninfo(pg_database), autocommit=True) as connection:
        names = ", ".join(f"marketdata.{name}" for name in OWN_TABLES)
        connection.execute(f"TRUNCATE {names}")
    settings = Settings(
        {
            "ZQUANT_MARKETDATA_DATABASE_URL": pg_database,
            "ZQUANT_MARKETDATA_SOURCE": "tushare",
            "TUSHARE_TOKEN": TOKEN,
            "ZQUANT_TUSHARE_BASE_URL": server.url,
            "ZQUANT_TUSHARE_CALLS_PER_MINUTE": "1000000",
            "ZQUANT_MARKETDATA_SECRET_KEY": Fernet.generate_key().decode(),
        }
    )
    engine = create_engine(pg_database, tables.SCHEMA)
    store = PostgresBulkBarStore(engine)
    components = build(MarketDataConfig.from_settings(settings), engine, session_factory(engine), store, SystemClock())
    components.engine = engine
    yield settings, components, store, pg_database
    await components.sync.shutdown()
    await engine.dispose()


def _count(url: str, table: str) -> int:
    with psycopg.connect(conninfo(url)) as connection:
        return connection.execute(f"SELECT count(*) FROM marketdata.{table}").fetchone()[0]


def _blocked_rows(url: str, dataset: str) -> tuple[int, int]:
    """(stale years of the dataset, rows its blocks hold): a run leaves no year stale."""
    with psycopg.connect(conninfo(url)) as connection:
        stale = connection.execute(
            "SELECT count(*) FROM marketdata.bar_block_staleness WHERE dataset = %s", (dataset,)
        ).fetchone()[0]
        rows = connection.execute(
            f"SELECT coalesce(sum(length(trade_dates) / 4), 0) FROM marketdata.{dataset}_blocks"
        ).fetchone()[0]
    return stale, rows


def _daily_calls(server) -> list[str]:
    return [c.params["trade_date"] for c in server.calls if c.api_name == "daily" and "trade_date" in c.params]


async def _logs(components, run_id: str):
    entries, _ = await components.sync.list_logs("", None, 1000)
    return [e for e in entries if e.run_id == run_id]


async def test_full_sync_then_resync_reports_unchanged(env, server, open_days) -> None:
    _, components, _, url = env
    days = len(open_days)
    first = await components.sync.run("tester", [], SyncMode.FULL, START, END)
    assert first.state is RunState.SUCCEEDED, first.error
    assert first.percent == 100.0
    assert _daily_calls(server) == open_days  # one whole-market call per open day
    logs = {(e.dataset, e.result): e for e in await _logs(components, first.run_id)}
    for dataset in ("daily", "adj_factor", "daily_basic"):
        entry = logs[(dataset, LogResult.SUCCEEDED)]
        assert (entry.rows_fetched, entry.inserted, entry.updated, entry.unchanged) == (BANKS * days, BANKS * days, 0, 0)
        assert entry.start == dt.date(2023, 6, 1) and entry.end == dt.date(2023, 8, 29) and entry.duration_seconds >= 0
    assert logs[("index_daily", LogResult.SUCCEEDED)].inserted == days  # only 000001.SH is served
    skipped = [e for e in await _logs(components, first.run_id) if e.result is LogResult.SKIPPED]
    assert sorted(e.error.split()[0] for e in skipped if e.dataset == "index_daily") == ["000300.SH", "000905.SH", "399006.SZ"]
    assert logs[("stk_factor", LogResult.SKIPPED)].error  # the fake serves no stk_factor API
    assert logs[("stock_basic", LogResult.SUCCEEDED)].inserted == BANKS
    assert _count(url, "daily") == BANKS * days
    assert _blocked_rows(url, "daily") == (0, BANKS * days)  # the run refreshed the blocks it wrote
    with psycopg.connect(conninfo(url)) as connection:
        calendars = dict(
            connection.execute(
                "SELECT exchange, count(*) FILTER (WHERE is_open) FROM marketdata.trade_cal GROUP BY exchange"
            ).fetchall()
        )
    assert calendars == {"SSE": days, "SZSE": days}  # both exchanges' calendars are kept

    stats, _ = await components.sync.statistics("daily", None, 1000)
    assert [s.stat_date.strftime("%Y%m%d") for s in stats] == sorted(open_days, reverse=True)
    assert all(s.rows_on_date == BANKS and s.inserted == BANKS and s.updated == 0 for s in stats)
    assert stats[0].total_rows == BANKS * days

    again = await components.sync.run("tester", [], SyncMode.FULL, START, END)
    assert again.state is RunState.SUCCEEDED
    assert (again.inserted, again.updated) == (0, 0)
    for entry in await _logs(components, again.run_id):
        if entry.dataset in ("daily", "adj_factor", "daily_basic"):
            assert (entry.inserted, entry.updated, entry.unchanged) == (0, 0, BANKS * days)
    stats, _ = await components.sync.statistics("daily", None, 1000)
    assert all(s.inserted == 0 and s.updated == 0 and s.rows_on_date == BANKS for s in stats)
    assert _count(url, "daily") == BANKS * days

    statuses, running = await components.sync.status()
    by_name = {s.dataset: s for s in statuses}
    assert by_name["daily"].last_trade_date == dt.date(2023, 8, 29) and running == []


async def test_validate_against_the_source_and_a_corrupted_store(env, open_days) -> None:
    _, components, _, url = env
    assert (await components.sync.run("tester", ["stock_basic", "daily", "adj_factor"], SyncMode.FULL, START, END)).state is RunState.SUCCEEDED
    clean = await components.validate.validate(ValidationRequest("daily", START, END, [], True))
    assert clean.rows_checked == BANKS * len(open_days) and clean.issues == []

    with psycopg.connect(conninfo(url)) as connection:
        connection.execute(
            "UPDATE marketdata.daily SET pre_close = 4.87 WHERE ts_code = '601398.SH' AND trade_date = '2023-07-17'"
        )
        connection.execute("DELETE FROM marketdata.daily WHERE ts_code = '601988.SH' AND trade_date = '2023-08-01'")
    report = await components.validate.validate(ValidationRequest("daily", START, END, [], True))
    kinds = {(i.kind, i.ts_code, i.trade_date.strftime("%Y%m%d")) for i in report.issues}
    assert kinds == {
        ("adj_factor_without_gap", "601398.SH", "20230717"),
        ("source_mismatch", "601398.SH", "20230717"),
        ("missing_locally", "601988.SH", "20230801"),
        ("missing_trade_day", "601988.SH", "20230801"),
        # the bar after the hole no longer follows the stored previous close
        ("adj_factor_without_gap", "601988.SH", "20230802"),
    }
    # Without the comparison the hole is still found, and checked against the source.
    local_only = await components.validate.validate(ValidationRequest("daily", START, END, ["601988.SH"], False))
    assert [(i.kind, i.trade_date.strftime("%Y%m%d")) for i in local_only.issues] == [
        ("missing_trade_day", "20230801"), ("adj_factor_without_gap", "20230802"),
    ]  # fmt: skip


async def test_incremental_picks_up_from_the_checkpoint(env, server, open_days) -> None:
    _, components, _, url = env
    first = await components.sync.run("tester", ["daily"], SyncMode.INCREMENTAL, START, "20230630")
    june = [d for d in open_days if d <= "20230630"]
    assert first.inserted == BANKS * len(june)
    server.reset()
    second = await components.sync.run("tester", ["daily"], SyncMode.INCREMENTAL, "", END)
    assert second.state is RunState.SUCCEEDED
    assert _daily_calls(server) == [d for d in open_days if d > "20230630"]
    assert (second.inserted, second.unchanged) == (BANKS * (len(open_days) - len(june)), 0)
    assert _count(url, "daily") == BANKS * len(open_days)


async def test_a_failure_mid_sync_keeps_the_last_good_batch_and_resume_completes(env, server, open_days) -> None:
    _, components, _, url = env
    server.fail_after(1 + 30, Failure.PERMISSION_DENIED)  # the calendar, 30 days, then the vendor refuses
    failed = await components.sync.run("tester", ["daily"], SyncMode.FULL, START, END)
    assert failed.state is RunState.FAILED and "daily" in failed.error
    assert _count(url, "daily") == BANKS * 20  # one batch of 20 days was written, the next 10 days were not
    assert _blocked_rows(url, "daily") == (0, BANKS * 20)  # a failed run's committed batches are refreshed too
    checkpoints = await components.repository.checkpoints()
    assert checkpoints["daily"].strftime("%Y%m%d") == open_days[19]
    (log,) = await _logs(components, failed.run_id)
    assert (log.result, log.inserted, log.rows_fetched) == (LogResult.FAILED, BANKS * 20, BANKS * 30)
    assert "权限" in log.error
    run = await components.repository.get_run(failed.run_id)
    assert run.state is RunState.FAILED and run.finished_at is not None

    server.reset()
    resumed = await components.sync.run("tester", ["daily"], SyncMode.INCREMENTAL, "", END)
    assert resumed.state is RunState.SUCCEEDED
    assert _daily_calls(server) == open_days[20:]
    assert (resumed.inserted, resumed.unchanged) == (BANKS * (len(open_days) - 20), 0)
    assert _count(url, "daily") == BANKS * len(open_days)
    stats, _ = await components.sync.statistics("daily", None, 1000)
    assert sum(s.inserted for s in stats) == BANKS * len(open_days)
    assert stats[0].total_rows == BANKS * len(open_days)


class _Provider:
    def __init__(self, choice: SourceChoice) -> None:
        self.choice = choice

    async def current(self) -> SourceChoice:
        return self.choice


async def test_cancel_stops_between_batches_and_a_second_run_is_refused(env, open_days) -> None:
    _, components, store, url = env
    real = (await components.sources.current()).source
    gated = GatedSource(real, block_at=25)
    sync = SyncUseCases(components.repository, store, _Provider(SourceChoice(gated, "gated")), SystemClock())
    handle = await sync.start("tester", ["daily", "adj_factor"], SyncMode.FULL, START, END)
    await asyncio.wait_for(gated.blocked.wait(), 10)
    with pytest.raises(FailedPrecondition) as refused:
        await sync.start("tester", ["daily"], SyncMode.FULL, START, END)
    assert handle.run.id in refused.value.message
    snapshot = handle.progress.snapshot()
    assert snapshot.state is RunState.RUNNING and snapshot.dataset == "daily" and 0 < snapshot.percent < 100

    await sync.cancel(handle.run.id)
    gated.release.set()
    final = await asyncio.wait_for(handle.wait(), 10)
    assert final.state is RunState.CANCELLED
    assert _count(url, "daily") == BANKS * 20 and _count(url, "adj_factor") == 0
    assert (await components.repository.checkpoints())["daily"].strftime("%Y%m%d") == open_days[19]
    (log,) = await _logs(components, handle.run.id)
    assert (log.dataset, log.result, log.inserted) == ("daily", LogResult.CANCELLED, BANKS * 20)
    assert (await components.repository.get_run(handle.run.id)).state is RunState.CANCELLED
    with pytest.raises(FailedPrecondition):
        await sync.cancel(handle.run.id)


async def test_one_run_per_dataset_across_replicas(env) -> None:
    """Two replicas share the database: the lease, not process memory, decides who syncs a dataset."""
    _, components, store, _ = env
    real = (await components.sources.current()).source
    gated = GatedSource(real, block_at=5)
    first = SyncUseCases(components.repository, store, _Provider(SourceChoice(gated, "gated")), SystemClock())
    second = SyncUseCases(components.repository, store, _Provider(SourceChoice(real, "tushare")), SystemClock())
    handle = await first.start("tester", ["daily"], SyncMode.FULL, START, END)
    await asyncio.wait_for(gated.blocked.wait(), 10)
    with pytest.raises(FailedPrecondition) as refused:
        await second.start("tester", ["daily", "adj_factor"], SyncMode.FULL, START, END)
    assert handle.run.id in refused.value.message
    await second.recover()  # a replica starting up must not fail a run another replica is executing
    assert (await components.repository.get_run(handle.run.id)).state is RunState.RUNNING
    other = await second.start("tester", ["adj_factor"], SyncMode.FULL, START, END)  # disjoint: allowed
    assert (await asyncio.wait_for(other.wait(), 30)).state is RunState.SUCCEEDED

    gated.release.set()
    assert (await asyncio.wait_for(handle.wait(), 30)).state is RunState.SUCCEEDED
    after = await second.start("tester", ["daily"], SyncMode.FULL, START, END)  # leases were released
    assert (await asyncio.wait_for(after.wait(), 30)).state is RunState.SUCCEEDED


async def test_load_csv_imports_shared_data_through_the_sync_path(env, capsys) -> None:
    settings, components, _, url = env
    assert await cli.load_csv(SHARED, settings, progress=False) == 0
    out = capsys.readouterr().out
    assert "succeeded" in out
    assert (_count(url, "daily"), _count(url, "adj_factor"), _count(url, "daily_basic")) == (4528, 4528, 4528)
    assert (_count(url, "index_daily"), _count(url, "stock_basic")) == (8455, 4)
    stats, _ = await components.sync.statistics("daily", None, 1)
    assert stats[0].total_rows == 4528 and stats[0].stat_date == dt.date(2023, 8, 29)
    report = await components.validate.validate(ValidationRequest("daily", "20190101", "20230829", [], False))
    assert report.rows_checked == 4528 and report.issues == []


async def test_tushare_without_a_token_fails_the_call_and_starts_no_run(env) -> None:
    settings, components, store, url = env
    unconfigured = build(
        MarketDataConfig.from_settings(settings.with_overrides(TUSHARE_TOKEN="")), components.engine, session_factory(components.engine), store,
        SystemClock(),
    )
    with pytest.raises(FailedPrecondition) as error:
        await unconfigured.sync.start("tester", ["daily"], SyncMode.FULL, START, END)
    assert "token" in error.value.message
    assert _count(url, "sync_runs") == 0
