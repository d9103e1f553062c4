"""GrpcServer.stop in-process: NOT_SERVING first while calls are still served, then a drain in which a
response stream still open (here grpc.health's Watch) ends UNAVAILABLE with a RetryInfo."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from zquant_kit.grpc.server import GrpcServer
from zquant_kit.testing import detail

pytestmark = pytest.mark.contract

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


async def test_stop_says_not_serving_serves_through_the_readiness_grace_then_ends_streams() -> None:
    server = GrpcServer([], host="127.0.0.1", port=0)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        watch = health.Watch(health_pb2.HealthCheckRequest())
        assert (await watch.read()).status == SERVING

        started = time.monotonic()
        stopping = asyncio.create_task(server.stop(grace_seconds=1.0, readiness_grace_seconds=0.5))
        assert (await watch.read()).status == NOT_SERVING
        assert time.monotonic() - started < 0.2
        assert (await health.Check(health_pb2.HealthCheckRequest(), timeout=1)).status == NOT_SERVING  # still served

        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await watch.read()
        elapsed = time.monotonic() - started
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE and 0.5 <= elapsed < 1.5, (ended.value, elapsed)
        info = detail(ended.value, error_details_pb2.RetryInfo)
        assert info.retry_delay.ToTimedelta().total_seconds() == 1.0
        await stopping
