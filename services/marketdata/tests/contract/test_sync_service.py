"""SyncService over a real gRPC server (identity + marketdata on PostgreSQL, sample market source)."""

from __future__ import annotations

import asyncio

import grpc
import psycopg
import pytest
from cryptography.fernet import Fernet
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from zquant.identity.v1 import auth_pb2, auth_pb2_grpc, user_pb2, user_pb2_grpc
from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.grpc.client import bearer
from zquant_kit.pagination import encode_cursor
from zquant_kit.runner import start_stack, upgrade_all
from zquant_kit.service import discover
from zquant_kit.settings import Settings
from zquant_kit.testing import ADMIN_PASSWORD
from zquant_marketdata.application.sync_ports import SourceChoice

pytestmark = pytest.mark.contract

TOKEN = "tushare-secret-token-abcdef0123456789"


class Stack:
    def __init__(self, stack, channel, identity_channel, url: str) -> None:
        self.stack = stack
        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        self.sync = sync_pb2_grpc.SyncServiceStub(channel)
        self._identity = identity_channel

    @property
    def app(self):
        return self.stack.apps["marketdata"]

    async def login(self, username: str, password: str):
        tokens = (
            await auth_pb2_grpc.AuthServiceStub(self._identity).Login(
                auth_pb2.LoginRequest(username=username, password=password)
            )
        ).tokens
        return bearer(tokens.access_token)

    async def user(self, username: str, role: str):
        users = user_pb2_grpc.UserServiceStub(self._identity)
        await users.CreateUser(
            user_pb2.CreateUserRequest(username=username, email=f"{username}@example.com", password="Secret-pass-1", role=role),
            metadata=await self.login("admin", ADMIN_PASSWORD),
        )
        return await self.login(username, "Secret-pass-1")


@pytest.fixture
async def stack(pg_database, tmp_path):
    known = discover()
    definitions = [known["identity"], known["marketdata"]]
    settings = Settings(
        {
            "ZQUANT_IDENTITY_DATABASE_URL": pg_database,
            "ZQUANT_MARKETDATA_DATABASE_URL": pg_database,
            "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ZQUANT_EVENT_BUS": "inprocess",
            "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
            "ZQUANT_DATA_DIR": str(tmp_path),
            "ZQUANT_SAMPLE_STOCKS": "20",
            "ZQUANT_SAMPLE_DAYS": "60",
            "ZQUANT_MARKETDATA_SECRET_KEY": Fernet.generate_key().decode(),
        }
    )
    await upgrade_all(definitions, settings)
    running = await start_stack(definitions, settings, bus=InProcessEventBus(), ephemeral_ports=True)
    channel = grpc.aio.insecure_channel(running.address("marketdata"))
    identity_channel = grpc.aio.insecure_channel(running.address("identity"))
    try:
        yield Stack(running, channel, identity_channel, pg_database)
    finally:
        await channel.close()
        await identity_channel.close()
        await running.stop(0)


def _field(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            return bad.field_violations[0].field
    return ""


async def test_start_sync_streams_progress_to_completion(stack: Stack) -> None:
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


async def test_permissions(stack: Stack) -> None:
    researcher = await stack.user("rita", "researcher")
    viewer = await stack.user("victor", "viewer")
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


async def test_bad_sync_requests_name_the_field_and_write_nothing(stack: Stack) -> None:
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
    with psycopg.connect(stack.url) as connection:
        assert connection.execute("SELECT count(*) FROM marketdata.sync_runs").fetchone()[0] == 0


async def test_other_error_codes(stack: Stack) -> None:
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


class _SlowSource:
    """The sample source with a gate before the n-th daily call."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.calls = 0
        self.blocked = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name):
        return getattr(self._inner, name)

    async def daily(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 30:
            self.blocked.set()
            await self.release.wait()
        return await self._inner.daily(*args, **kwargs)


async def test_cancel_a_running_sync_and_refuse_a_second_one(stack: Stack) -> None:
    admin = await stack.login("admin", ADMIN_PASSWORD)
    selector = stack.app.sync_components.sources
    choice = await selector.current()
    slow = _SlowSource(choice.source)

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


async def test_source_config_token_is_encrypted_and_never_returned(stack: Stack, pg_database) -> None:
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

    with psycopg.connect(pg_database.replace("postgresql+psycopg://", "postgresql://")) as connection:
        (ciphertext,) = connection.execute("SELECT token_ciphertext FROM marketdata.source_config").fetchone()
    assert ciphertext and TOKEN.encode() not in bytes(ciphertext)
    assert await stack.app.sync_components.config.token() == TOKEN
    # With a token configured, the next run uses Tushare (here an unreachable endpoint).
    assert (await stack.app.sync_components.sources.current()).name == "tushare"
