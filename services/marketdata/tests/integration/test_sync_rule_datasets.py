"""The rule datasets (stk_limit, suspend_d, namechange, dividend, index_weight) sync from the fake
Tushare server through the real SDK and adapter, on SQLite and PostgreSQL: Tushare's calls, exact
counts, idempotent re-sync, logs, and the `marketdata.sync.completed.v1` event in the outbox."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from services.marketdata.tests.fakes.fake_tushare import Failure, FakeTushareServer
from services.marketdata.tests.integration.sync_env import sync_components
from zquant.marketdata.v1 import events_pb2
from zquant_kit.clock import SystemClock
from zquant_kit.persistence.engine import session_factory
from zquant_kit.testing import BACKENDS, backend_database
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.bar_tables import BAR_TABLES
from zquant_marketdata.adapters.sqlalchemy.rule_tables import RECORD_TABLES
from zquant_marketdata.domain.sync import SYNC_COMPLETED_EVENT, LogResult, RunState, SyncMode

pytestmark = pytest.mark.integration

TOKEN = "fake-token-rules-0123"
RULES = ["stk_limit", "namechange", "index_weight", "suspend_d", "dividend"]
DAYS = ["20240102", "20240103", "20240104", "20240105", "20240108"]
CODES = ["000001.SZ", "600000.SH"]


def _fake_tables() -> dict[str, pd.DataFrame]:
    stk_limit = pd.DataFrame(
        [
            {"trade_date": d, "ts_code": c, "pre_close": 10.0, "up_limit": 11.0, "down_limit": 9.0}
            for d in DAYS
            for c in CODES
        ]
    )
    suspend_d = pd.DataFrame(
        [{"ts_code": "600000.SH", "trade_date": "20240104", "suspend_timing": None, "suspend_type": "S"}]
    )
    namechange = pd.DataFrame(
        [
            {"ts_code": "000001.SZ", "name": "平安银行", "start_date": "19910403", "end_date": "20240102",
             "ann_date": "19910403", "change_reason": "其他"},
            {"ts_code": "000001.SZ", "name": "ST平安", "start_date": "20240103", "end_date": None,
             "ann_date": "20240102", "change_reason": "ST"},
        ]
    )  # fmt: skip
    dividend = pd.DataFrame(
        [
            {"ts_code": "000001.SZ", "end_date": "20231231", "ann_date": "20240102", "div_proc": "实施",
             "stk_div": 0.1, "stk_bo_rate": 0.1, "stk_co_rate": None, "cash_div": 0.18, "cash_div_tax": 0.2,
             "record_date": "20240104", "ex_date": "20240105", "pay_date": "20240105", "div_listdate": "20240105"},
            {"ts_code": "600000.SH", "end_date": "20231231", "ann_date": "20231120", "div_proc": "预案",
             "stk_div": 0.0, "stk_bo_rate": None, "stk_co_rate": None, "cash_div": 0.0, "cash_div_tax": 0.3,
             "record_date": None, "ex_date": None, "pay_date": None, "div_listdate": None},
        ]
    )  # fmt: skip
    index_weight = pd.DataFrame(
        [{"index_code": "000300.SH", "con_code": c, "trade_date": "20240102", "weight": w} for c, w in zip(CODES, (0.6, 0.4))]
    )
    return {
        "stk_limit": stk_limit, "suspend_d": suspend_d, "namechange": namechange, "dividend": dividend,
        "index_weight": index_weight,
    }  # fmt: skip


@pytest.fixture(scope="module")
def server():
    with FakeTushareServer(_fake_tables(), token=TOKEN) as fake:
        yield fake


@pytest.fixture(params=BACKENDS)
async def env(request, tmp_path, server):
    server.reset()
    settings = {
        "ZQUANT_DATA_DIR": str(tmp_path),
        "ZQUANT_MARKETDATA_DATABASE_URL": backend_database(request, tmp_path, "marketdata", postgres="migrated_pg_database"),
        "ZQUANT_MARKETDATA_SOURCE": "tushare",
        "TUSHARE_TOKEN": TOKEN,
        "ZQUANT_TUSHARE_BASE_URL": server.url,
        "ZQUANT_TUSHARE_CALLS_PER_MINUTE": "1000000",
        "ZQUANT_MARKETDATA_SECRET_KEY": Fernet.generate_key().decode(),
    }
    async with sync_components(settings, SystemClock()) as components_and_engine:
        yield components_and_engine


async def _count(engine, table) -> int:
    async with session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(table)))


async def _events(engine) -> list[events_pb2.SyncCompletedEvent]:
    async with session_factory(engine)() as session:
        rows = (await session.execute(select(tables.outbox).order_by(tables.outbox.c.seq))).mappings().all()
    completed = [row for row in rows if row["event_type"] == SYNC_COMPLETED_EVENT]
    return [events_pb2.SyncCompletedEvent.FromString(row["payload"]) for row in completed]


async def test_each_rule_dataset_syncs_with_tushares_calls_and_counts(env, server) -> None:
    components, engine = env
    run = await components.sync.run("tester", RULES, SyncMode.FULL, "20240101", "20240108")
    assert run.state is RunState.SUCCEEDED, run.error
    calls = server.calls
    assert [c.params["trade_date"] for c in calls if c.api_name == "stk_limit"] == DAYS
    assert [c.params["ex_date"] for c in calls if c.api_name == "dividend"] == DAYS
    assert [c.params for c in calls if c.api_name == "namechange"] == [{"start_date": "20240101", "end_date": "20240108"}]
    assert sorted(c.params["index_code"] for c in calls if c.api_name == "index_weight") == [
        "000001.SH", "000300.SH", "000905.SH", "399006.SZ",
    ]  # fmt: skip
    assert await _count(engine, BAR_TABLES["stk_limit"]) == len(DAYS) * len(CODES)
    expected = {"suspend_d": 1, "namechange": 1, "dividend": 1, "index_weight": 2}  # only ann_date / ex_date in range
    for name, rows in expected.items():
        assert await _count(engine, RECORD_TABLES[name]) == rows, name
    logs, _ = await components.sync.list_logs("", None, 100)
    inserted = {e.dataset: e.inserted for e in logs if e.run_id == run.run_id and e.result is LogResult.SUCCEEDED}
    assert inserted == {"stk_limit": len(DAYS) * len(CODES), **expected}
    async with session_factory(engine)() as session:
        implemented = (await session.execute(select(RECORD_TABLES["dividend"]))).mappings().one()
    assert implemented["div_proc"] == "实施" and implemented["cash_div_tax"] == 0.2
    assert implemented["ex_date"] == dt.date(2024, 1, 5) and implemented["stk_co_rate"] is None

    again = await components.sync.run("tester", RULES, SyncMode.FULL, "20240101", "20240108")
    assert again.state is RunState.SUCCEEDED, again.error
    assert (again.inserted, again.updated) == (0, 0)
    assert again.unchanged == len(DAYS) * len(CODES) + sum(expected.values())

    server.reset()
    resumed = await components.sync.run("tester", RULES, SyncMode.INCREMENTAL, "", "20240108")
    assert resumed.state is RunState.SUCCEEDED, resumed.error
    assert {c.api_name for c in server.calls} <= {"trade_cal"}  # every checkpoint is at the end already


async def test_a_finished_run_puts_its_completion_event_in_the_outbox(env) -> None:
    components, engine = env
    run = await components.sync.run("tester", RULES, SyncMode.FULL, "20240101", "20240108")
    assert run.state is RunState.SUCCEEDED, run.error
    (event,) = await _events(engine)
    assert event.run_id == run.run_id and list(event.datasets) == RULES
    assert (event.start_date, event.end_date, event.state) == ("20240101", "20240108", "succeeded")


async def test_a_run_failing_midway_reports_what_it_wrote(env, server) -> None:
    components, engine = env
    # trade_cal, then the five stk_limit days; then the token is refused (not retried, not skippable).
    server.fail_after(1 + len(DAYS), Failure.BAD_TOKEN)
    run = await components.sync.run("tester", RULES, SyncMode.FULL, "20240101", "20240108")
    assert run.state is RunState.FAILED
    (event,) = await _events(engine)
    assert list(event.datasets) == ["stk_limit"] and event.state == "failed"
    assert (event.start_date, event.end_date) == ("20240102", "20240108")
