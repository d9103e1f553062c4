"""The gRPC JobTargets against stand-in marketdata, factor and backtest servers: each call carries the owner's
bearer token and the run's idempotency key in the request, streams are read to their end, a refusal becomes a kit error (never
retried) and an outage stays a plain error (retried)."""

from __future__ import annotations

import grpc
import pytest

from zquant.backtest.v1 import backtest_pb2, backtest_pb2_grpc
from zquant.factor.v1 import calculation_pb2, calculation_pb2_grpc
from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc
from zquant_kit.errors import PermissionDenied
from zquant_scheduler.adapters.grpc_targets import GrpcJobTargets, TargetFailed
from zquant_scheduler.application.job_ports import TargetCall

pytestmark = pytest.mark.contract


class StandInSync(sync_pb2_grpc.SyncServiceServicer):
    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, str], sync_pb2.StartSyncRequest]] = []

    async def StartSync(self, request, context):
        self.seen.append((dict(context.invocation_metadata()), request))
        for state in ("running", "succeeded"):
            yield sync_pb2.StartSyncResponse(progress=sync_pb2.SyncProgress(run_id="sync-1", state=state, inserted=7))

    async def ValidateData(self, request, context):
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, "permission 'data:read' required")


class StandInFactor(calculation_pb2_grpc.FactorCalculationServiceServicer):
    async def CalculateFactors(self, request, context):
        yield calculation_pb2.CalculateFactorsResponse(job_id="calc-1", state="failed", message="no bars")


class StandInBacktest(backtest_pb2_grpc.BacktestServiceServicer):
    def __init__(self) -> None:
        self.submitted: list[backtest_pb2.SubmitBacktestRequest] = []

    async def SubmitBacktest(self, request, context):
        self.submitted.append(request)
        task = backtest_pb2.BacktestTask(task_id="bt-1", state=backtest_pb2.TASK_STATE_QUEUED)
        return backtest_pb2.SubmitBacktestResponse(task=task)

    async def WatchBacktest(self, request, context):
        for state in (backtest_pb2.TASK_STATE_RUNNING, backtest_pb2.TASK_STATE_SUCCEEDED):
            yield backtest_pb2.WatchBacktestResponse(task_id=request.task_id, state=state)

    async def GetBacktest(self, request, context):
        task = backtest_pb2.BacktestTask(
            task_id=request.task_id, state=backtest_pb2.TASK_STATE_SUCCEEDED, template_name="dual_ma_crossover"
        )
        return backtest_pb2.GetBacktestResponse(task=task)


@pytest.fixture
async def targets():
    server = grpc.aio.server()
    sync = StandInSync()
    sync_pb2_grpc.add_SyncServiceServicer_to_server(sync, server)
    calculation_pb2_grpc.add_FactorCalculationServiceServicer_to_server(StandInFactor(), server)
    backtest = StandInBacktest()
    backtest_pb2_grpc.add_BacktestServiceServicer_to_server(backtest, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    down = grpc.aio.insecure_channel("127.0.0.1:1")
    yield (
        GrpcJobTargets(channel, channel, channel, timeout_seconds=5),
        GrpcJobTargets(down, down, down, timeout_seconds=2),
        sync,
        backtest,
    )
    await channel.close()
    await down.close()
    await server.stop(0)


async def test_a_sync_carries_the_owner_and_the_idempotency_key(targets):
    up, _, sync, _ = targets
    result = await up.data_sync(TargetCall("run-1", "owner-token", {"mode": "SYNC_MODE_FULL", "datasets": ["daily"]}))
    assert result.task_id == "sync-1" and "7 inserted" in result.summary
    metadata, request = sync.seen[0]
    assert request.idempotency_key == "run-1" and metadata["authorization"] == "Bearer owner-token"
    assert request.mode == sync_pb2.SYNC_MODE_FULL and list(request.datasets) == ["daily"]


async def test_refusals_failures_and_outages(targets):
    up, down, _, _ = targets
    with pytest.raises(PermissionDenied):
        await up.data_validation(TargetCall("run-2", "t", {}))
    with pytest.raises(TargetFailed, match="no bars"):
        await up.factor_calculation(TargetCall("run-3", "t", {"factor_ids": ["macd"]}))
    with pytest.raises(TargetFailed, match="UNAVAILABLE"):
        await down.data_sync(TargetCall("run-4", "t", {}))


async def test_a_backtest_run_is_submitted_with_the_key_and_followed_to_its_end(targets):
    up, _, _, backtest = targets
    config = {"template_name": "dual_ma_crossover", "config": {"start_date": "20240102", "end_date": "20241231"}}
    result = await up.backtest_run(TargetCall("run-5", "owner-token", config))
    assert result.task_id == "bt-1" and "dual_ma_crossover" in result.summary
    assert backtest.submitted[0].idempotency_key == "run-5"
    assert backtest.submitted[0].config.start_date == "20240102"
