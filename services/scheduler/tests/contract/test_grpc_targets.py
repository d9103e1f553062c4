"""The gRPC JobTargets against stand-in marketdata and factor servers: each call carries the owner's bearer
token and the run's idempotency key, streams are read to their end, a refusal becomes a kit error (never
retried) and an outage stays a plain error (retried)."""

from __future__ import annotations

import grpc
import pytest

from zquant.factor.v1 import calculation_pb2, calculation_pb2_grpc
from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc
from zquant_kit.errors import PermissionDenied
from zquant_scheduler.adapters.grpc_targets import IDEMPOTENCY_KEY, GrpcJobTargets, TargetFailed
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


@pytest.fixture
async def targets():
    server = grpc.aio.server()
    sync = StandInSync()
    sync_pb2_grpc.add_SyncServiceServicer_to_server(sync, server)
    calculation_pb2_grpc.add_FactorCalculationServiceServicer_to_server(StandInFactor(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    down = grpc.aio.insecure_channel("127.0.0.1:1")
    yield GrpcJobTargets(channel, channel, timeout_seconds=5), GrpcJobTargets(down, down, timeout_seconds=2), sync
    await channel.close()
    await down.close()
    await server.stop(0)


async def test_a_sync_carries_the_owner_and_the_idempotency_key(targets):
    up, _, sync = targets
    result = await up.data_sync(TargetCall("run-1", "owner-token", {"mode": "SYNC_MODE_FULL", "datasets": ["daily"]}))
    assert result.task_id == "sync-1" and "7 inserted" in result.summary
    metadata, request = sync.seen[0]
    assert metadata[IDEMPOTENCY_KEY] == "run-1" and metadata["authorization"] == "Bearer owner-token"
    assert request.mode == sync_pb2.SYNC_MODE_FULL and list(request.datasets) == ["daily"]


async def test_refusals_failures_and_outages(targets):
    up, down, _ = targets
    with pytest.raises(PermissionDenied):
        await up.data_validation(TargetCall("run-2", "t", {}))
    with pytest.raises(TargetFailed, match="no bars"):
        await up.factor_calculation(TargetCall("run-3", "t", {"factor_ids": ["macd"]}))
    with pytest.raises(TargetFailed, match="UNAVAILABLE"):
        await down.data_sync(TargetCall("run-4", "t", {}))
