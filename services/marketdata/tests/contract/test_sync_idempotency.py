"""StartSync and ValidateData with an idempotency key: the same (caller, key) gets the run or report it first
produced (concurrently, and after a restart too), nothing runs twice; another caller's same key is their own."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from services.marketdata.tests.conftest import market_client
from services.marketdata.tests.contract.sample_sync import sample_sync_settings
from zquant.identity.v1 import role_pb2, role_pb2_grpc
from zquant.marketdata.v1 import sync_pb2
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.testing import expect_error, running_stack, services

pytestmark = pytest.mark.contract


@pytest.fixture
def marketdata_extra_settings(tmp_path) -> dict[str, str]:
    return sample_sync_settings(tmp_path, stocks=10, days=30)


async def _sync(stack, metadata, key: str, datasets=("trade_cal", "daily")) -> list[sync_pb2.SyncProgress]:
    request = sync_pb2.StartSyncRequest(datasets=list(datasets), idempotency_key=key)
    return [m.progress async for m in stack.sync.StartSync(request, metadata=metadata)]


async def _log_count(stack, metadata) -> int:
    return len(
        (await stack.sync.ListSyncLogs(sync_pb2.ListSyncLogsRequest(page_size=1000), metadata=metadata)).logs
    )


async def _validate(stack, metadata, key: str, end: str) -> sync_pb2.ValidateDataResponse:
    request = sync_pb2.ValidateDataRequest(
        dataset="daily", start_date="20240101", end_date=end, idempotency_key=key
    )
    return await stack.sync.ValidateData(request, metadata=metadata)


async def test_the_same_key_syncs_and_validates_once_per_caller(marketdata, marketdata_settings):
    stack = marketdata
    admin = await stack.admin()
    roles = role_pb2_grpc.RoleServiceStub(stack.identity_channel)
    await roles.CreateRole(
        role_pb2.CreateRoleRequest(name="syncer", permissions=["data:read", "data:sync"]), metadata=admin
    )
    _, syncer = await stack.user("sid", "syncer")

    first, racing = await asyncio.gather(_sync(stack, admin, "run-1"), _sync(stack, admin, "run-1"))
    assert first[-1].run_id == racing[-1].run_id and first[-1].state == racing[-1].state == "succeeded"
    logs = await _log_count(stack, admin)
    again = await _sync(stack, admin, "run-1", datasets=("stock_basic",))  # the key decides, not the request
    assert [(p.run_id, p.state, p.percent) for p in again] == [(first[-1].run_id, "succeeded", 100.0)]
    assert await _log_count(stack, admin) == logs

    theirs = await _sync(stack, syncer, "run-1")
    assert theirs[-1].run_id != first[-1].run_id and theirs[-1].state == "succeeded"
    assert await _log_count(stack, admin) > logs

    report = await _validate(stack, admin, "check-1", "20241231")
    assert report.rows_checked > 0
    narrower = await _validate(stack, admin, "check-1", "20240102")  # answered from the kept report
    assert narrower == report
    assert (await _validate(stack, syncer, "check-1", "20240102")).rows_checked < report.rows_checked
    assert (await _validate(stack, admin, "", "20240102")).rows_checked < report.rows_checked

    bad = sync_pb2.StartSyncRequest(idempotency_key="x" * 129)
    found = await expect_error(
        stack.sync.StartSync(bad, metadata=admin).read(), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert found.fields == ["idempotency_key"]

    await stack.client.close()
    await stack.stack.stop(0)
    definitions = services("identity", "marketdata")
    async with running_stack(definitions, marketdata_settings, bus=InProcessEventBus()) as client:
        restarted = market_client(client)
        admin = await restarted.admin()
        after = await _sync(restarted, admin, "run-1")
        assert [(p.run_id, p.state) for p in after] == [(first[-1].run_id, "succeeded")]
        assert await _validate(restarted, admin, "check-1", "20240105") == report
