"""SyncService over a real gRPC server (identity + marketdata on PostgreSQL, sample market source)."""

from __future__ import annotations

import asyncio

import grpc
import psycopg
import pytest

from services.marketdata.tests.contract.sample_sync import sample_sync_settings
from services.marketdata.tests.fakes.gated_source import GatedSource
from zquant.marketdata.v1 import sync_pb2
from zquant_kit.pagination import encode_cursor
from zquant_kit.testing import ADMIN_PASSWORD, conninfo, error_details
from zquant_marketdata.application.sync_ports import SourceChoice

pytestmark = pytest.mark.contract

TOKEN = "tushare-secret-token-abcdef0123456789"


@pytest.fixture
def marketdata_extra_settings(tmp_path) -> dict[str, str]:
    return sample_sync_settings(tmp_path, stocks=20, days=60)


@pytest.fixture
def stack(marketdata):
    return marketdata


def _field(error: grpc.aio.AioRpcError) -> str:
    return error_details(error).fields[0]


async def test_start_sync_streams_progress_to_completion(stack) -> None:
    admin = await stack.login("admin", ADMIN_PASSWORD)
    messages = [m.progress async for m in stack.sync.StartSync(sync_pb2.StartSyncRequest(), metadata=admin)]
    assert len(messages) >= 2
    assert [m.percent for m in messages] == sorted(m.percent for m in messages)
    last = messages[-1]
    assert (last.state, last.percent, last.error) == ("succeeded", 100.0, "")
    assert last.inserted > 1000 and last.current_date == "20241231"
    assert {m.run_id for m in messages} == {last.run_id}

    status = await stack.sync.GetSyncStatus(sync_pb2.GetSyncStatusRequest(), metadata=admin)
    by_name = {d.dataset: d for d in status.datasets}
    assert by_name["daily"].last_trade_date == "20241231" and by_name["daily"].last_run_state == "succeeded"
    assert list(status.running) == []

    first = await stack.sync.ListSyncLogs(sync_pb2.ListSyncLogsRequest(page_size=3), metadata=admin)
    assert len(first.logs) == 3 and first.next_page_token
    rest = await stack.sync.ListSyncLogs(
        sync_pb2.ListSyncLogsRequest(page_size=100, page_token=first.next_page_token), metadata=admin
    )
    logs = [*first.logs, *rest.logs]
    assert len({log.id for log in logs}) == len(logs) and not rest.next_page_token
    daily = next(log for log in logs if log.dataset == "daily")
    assert daily.result == "succeeded" and daily.inserted == daily.rows_fetched > 0 and daily.start_date == "20241009"

    stats = await stack.sync.GetTableStatistics(
        sync_pb2.GetTableStatisticsRequest(dataset="daily", page_size=10), metadata=admin
    )
    assert len(stats.statistics) == 10 and stats.next_page_token
    assert stats.statistics[0].stat_date == "20241231" and stats.statistics[0].total_rows == daily.inserted

    again = [m.progress async for m in stack.sync.StartSync(
        sync_pb2.StartSyncRequest(datasets=["daily"], mode=sync_pb2.SYNC_MODE_FULL), metadata=admin
    )]  # fmt: skip
    assert (again[-1].state, again[-1].inserted, again[-1].unchanged) == ("succeeded", 0, daily.inserted)

    report = await stack.sync.ValidateData(
        sync_pb2.ValidateDataRequest(dataset="daily", start_date="20241001", end_date="20241231", compare_with_source=True),
        metadata=admin,
    )
    assert report.rows_checked == daily.inserted
    assert {issue.kind for issue in report.issues} <= {"suspension"}  # the sample's suspensions, nothing else


async def test_permissions(stack) -> None:
    _, researcher = await stack.user("rita", "researcher")
    _, viewer = await stack.user("victor", "viewer")
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        async for _ in stack.sync.StartSync(sync_pb2.StartSyncRequest(), metadata=researcher):
            pass
    assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
    for call, request in (
        (stack.sync.CancelSync, sync_pb2.CancelSyncRequest(run_id="x")),
        (stack.sync.SetSourceConfig, sync_pb2.SetSourceConfigRequest(tushare_token=TOKEN)),
        (stack.sync.GetSourceConfig, sync_pb2.GetSourceConfigRequest()),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await call(request, metadata=viewer)
        assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
    report = await stack.sync.ValidateData(sync_pb2.ValidateDataRequest(dataset="daily"), metadata=viewer)
    assert report.rows_checked == 0
    await stack.sync.GetSyncStatus(sync_pb2.GetSyncStatusRequest(), metadata=viewer)
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stack.sync.GetSyncStatus(sync_pb2.GetSyncStatusRequest())
    assert anonymous.value.code() is grpc.StatusCode.UNAUTHENTICATED


BAD_REQUESTS = [
    (sync_pb2.StartSyncRequest(datasets=["daily", "ticks"]), "datasets"),
    (sync_pb2.StartSyncRequest(start_date="2024-01-01"), "start_date"),
    (sync_pb2.StartSyncRequest(start_date="20240301", end_date="20240201"), "start_date"),
    (sync_pb2.StartSyncRequest(end_date="20241399"), "end_date"),
]


async def test_bad_sync_requests_name_the_field_and_write_nothing(stack, migrated_pg_database) -> None:
    admin = await stack.login("admin", ADMIN_PASSWORD)
    for request, field in BAD_REQUESTS:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            async for _ in stack.sync.StartSync(request, metadata=admin):
                pass
        assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT and _field(error.value) == field, request
    logs = await stack.sync.ListSyncLogs(sync_pb2.ListSyncLogsRequest(), metadata=admin)
    assert list(logs.logs) == []
    status = await stack.sync.GetSyncStatus(sync_pb2.GetSyncStatusRequest(), metadata=admin)
    assert all(not d.last_trade_date for d in status.datasets)
    with psycopg.connect(conninfo(migrated_pg_database)) as connection:
        assert connection.execute("SELECT count(*) FROM marketdata.sync_runs").fetchone()[0] == 0


async def test_other_error_codes(stack) -> None:
    admin = await stack.login("admin", ADMIN_PASSWORD)
    cases = [
        (stack.sync.CancelSync(sync_pb2.CancelSyncRequest(run_id="no-such-run"), metadata=admin), grpc.StatusCode.NOT_FOUND, ""),
        (stack.sync.CancelSync(sync_pb2.CancelSyncRequest(), metadata=admin), grpc.StatusCode.INVALID_ARGUMENT, "run_id"),
        (stack.sync.ValidateData(sync_pb2.ValidateDataRequest(dataset="ticks"), metadata=admin), grpc.StatusCode.INVALID_ARGUMENT, "dataset"),
        (stack.sync.ValidateData(sync_pb2.ValidateDataRequest(start_date="x"), metadata=admin), grpc.StatusCode.INVALID_ARGUMENT, "start_date"),
        (stack.sync.ListSyncLogs(sync_pb2.ListSyncLogsRequest(page_token="garbage"), metadata=admin), grpc.StatusCode.INVALID_ARGUMENT, "page_token"),
        (stack.sync.ListSyncLogs(sync_pb2.ListSyncLogsRequest(page_token=encode_cursor("sync_logs", ["noon", "x"])), metadata=admin), grpc.StatusCode.INVALID_ARGUMENT, "page_token"),
        (stack.sync.GetTableStatistics(sync_pb2.GetTableStatisticsRequest(page_token=encode_cursor("table_statistics", ["daily"])), metadata=admin), grpc.StatusCode.INVALID_ARGUMENT, "page_token"),
        (stack.sync.GetTableStatistics(sync_pb2.GetTableStatisticsRequest(dataset="ticks"), metadata=admin), grpc.StatusCode.INVALID_ARGUMENT, "dataset"),
        (stack.sync.SetSourceConfig(sync_pb2.SetSourceConfigRequest(base_url="ftp://x"), metadata=admin), grpc.StatusCode.INVALID_ARGUMENT, "base_url"),
    ]  # fmt: skip
    for call, code, field in cases:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await call
        assert error.value.code() is code
        if field:
            assert _field(error.value) == field


async def test_cancel_a_running_sync_and_refuse_a_second_one(stack) -> None:
    admin = await stack.login("admin", ADMIN_PASSWORD)
    selector = stack.app.sync_components.sources
    choice = await selector.current()
    slow = GatedSource(choice.source, block_at=30)

    async def current() -> SourceChoice:
        return SourceChoice(slow, "slow", choice.default_start)

    selector.current = current
    stream = stack.sync.StartSync(sync_pb2.StartSyncRequest(datasets=["daily"]), metadata=admin)
    first = (await stream.read()).progress
    await asyncio.wait_for(slow.blocked.wait(), 10)
    stream.cancel()  # the client goes away; the run goes on

    with pytest.raises(grpc.aio.AioRpcError) as busy:
        async for _ in stack.sync.StartSync(sync_pb2.StartSyncRequest(datasets=["adj_factor", "daily"]), metadata=admin):
            pass
    assert busy.value.code() is grpc.StatusCode.FAILED_PRECONDITION and first.run_id in busy.value.details()
    status = await stack.sync.GetSyncStatus(sync_pb2.GetSyncStatusRequest(), metadata=admin)
    assert [p.run_id for p in status.running] == [first.run_id] and status.running[0].state == "running"

    await stack.sync.CancelSync(sync_pb2.CancelSyncRequest(run_id=first.run_id), metadata=admin)
    slow.release.set()
    handle = stack.app.sync.handle(first.run_id)
    final = await asyncio.wait_for(handle.wait(), 10) if handle else None
    assert final is None or final.state.value == "cancelled"
    status = await stack.sync.GetSyncStatus(sync_pb2.GetSyncStatusRequest(), metadata=admin)
    by_name = {d.dataset: d for d in status.datasets}
    assert by_name["daily"].last_run_state == "cancelled" and by_name["daily"].last_trade_date  # first batch kept
    assert list(status.running) == []


async def test_source_config_token_is_encrypted_and_never_returned(stack, migrated_pg_database) -> None:
    admin = await stack.login("admin", ADMIN_PASSWORD)
    before = await stack.sync.GetSourceConfig(sync_pb2.GetSourceConfigRequest(), metadata=admin)
    assert not before.token_set and before.base_url.startswith("http") and before.calls_per_minute == 200
    set_ = await stack.sync.SetSourceConfig(
        sync_pb2.SetSourceConfigRequest(tushare_token=TOKEN, base_url="http://127.0.0.1:9/dataapi", calls_per_minute=120),
        metadata=admin,
    )
    assert set_.token_set and TOKEN.encode() not in set_.SerializeToString()
    after = await stack.sync.GetSourceConfig(sync_pb2.GetSourceConfigRequest(), metadata=admin)
    assert (after.token_set, after.base_url, after.calls_per_minute) == (True, "http://127.0.0.1:9/dataapi", 120)
    assert TOKEN.encode() not in after.SerializeToString()
    # Changing only the pacing keeps the token.
    await stack.sync.SetSourceConfig(sync_pb2.SetSourceConfigRequest(calls_per_minute=60), metadata=admin)
    assert (await stack.sync.GetSourceConfig(sync_pb2.GetSourceConfigRequest(), metadata=admin)).token_set

    with psycopg.connect(conninfo(migrated_pg_database)) as connection:
        (ciphertext,) = connection.execute("SELECT token_ciphertext FROM marketdata.source_config").fetchone()
    assert ciphertext and TOKEN.encode() not in bytes(ciphertext)
    assert await stack.app.sync_components.config.token() == TOKEN
    # With a token configured, the next run uses Tushare (here an unreachable endpoint).
    assert (await stack.app.sync_components.sources.current()).name == "tushare"
