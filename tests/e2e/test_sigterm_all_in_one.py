"""SIGTERM on a real all-in-one process (`zquant serve all`): every service's health turns NOT_SERVING at
once, calls are still served through the readiness grace, a response stream still open at the end of the
drain ends UNAVAILABLE with a RetryInfo, and the process exits 0."""

import asyncio
import signal
import subprocess
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.marketdata.tests.fakes.fake_tushare import FakeTushareServer
from zquant.identity.v1 import user_pb2, user_pb2_grpc
from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc
from zquant_kit.testing import (
    SHARED_DATA,
    admin_metadata,
    detail,
    free_port,
    serve,
    served_env,
    upgrade_databases,
    wait_serving,
)

pytestmark = pytest.mark.e2e

TOKEN = "fake-token-0123456789"
READINESS_GRACE, SHUTDOWN_GRACE = 1.5, 2.0
SERVICES = {"identity": "zquant.identity.v1.UserService", "marketdata": "zquant.marketdata.v1.SyncService"}


async def _status(health, service: str) -> int:
    return (await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)).status


async def test_sigterm_turns_health_not_serving_serves_through_the_grace_and_ends_streams(tmp_path):
    ports = {name: free_port() for name in SERVICES}
    with FakeTushareServer.from_data_dir(SHARED_DATA, token=TOKEN) as tushare:
        env = served_env(
            ports,
            ZQUANT_DATA_DIR=str(tmp_path),
            ZQUANT_MARKETDATA_SOURCE="tushare",
            TUSHARE_TOKEN=TOKEN,
            ZQUANT_TUSHARE_BASE_URL=tushare.url,
            ZQUANT_TUSHARE_CALLS_PER_MINUTE="20",  # a sync that outlives the shutdown: its stream must end
            ZQUANT_READINESS_GRACE_SECONDS=str(READINESS_GRACE),
            ZQUANT_SHUTDOWN_GRACE_SECONDS=str(SHUTDOWN_GRACE),
        )
        upgrade_databases(env)
        process = serve("all", env)
        try:
            await _exercise(process, ports)
            assert process.wait(timeout=20) == 0, process.stdout.read()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


async def _exercise(process: subprocess.Popen, ports: dict[str, int]) -> None:
    channels = {name: grpc.aio.insecure_channel(f"127.0.0.1:{port}") for name, port in ports.items()}
    try:
        health = {name: health_pb2_grpc.HealthStub(channel) for name, channel in channels.items()}
        for port in ports.values():
            await wait_serving(f"127.0.0.1:{port}", process)
        users = user_pb2_grpc.UserServiceStub(channels["identity"])
        admin = await admin_metadata(channels["identity"])
        sync = sync_pb2_grpc.SyncServiceStub(channels["marketdata"])
        stream = sync.StartSync(
            sync_pb2.StartSyncRequest(datasets=["daily"], start_date="20230601", end_date="20230829"), metadata=admin
        )
        first = await stream.read()
        assert first.progress.state == "running"

        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        seen: dict[tuple[str, str], float] = {}
        while len(seen) < 2 * len(SERVICES):
            for name, full_name in SERVICES.items():
                for service in ("", full_name):
                    if (name, service) not in seen and await _status(health[name], service) == health_pb2.HealthCheckResponse.NOT_SERVING:
                        seen[(name, service)] = time.monotonic() - signalled
            assert time.monotonic() - signalled < 1.0, f"NOT_SERVING seen only for {seen}"
        assert max(seen.values()) < 0.3, seen  # at once, for every service (polling adds a few ms each)

        # Still served during the readiness grace, so a balancer has time to take the process out.
        while time.monotonic() - signalled < READINESS_GRACE - 0.3:
            me = await users.GetMe(user_pb2.GetMeRequest(), metadata=admin, timeout=2)
            assert me.user.username == "admin"
            assert await _status(health["marketdata"], "") == health_pb2.HealthCheckResponse.NOT_SERVING
            await asyncio.sleep(0.1)

        with pytest.raises(grpc.aio.AioRpcError) as ended:
            while await stream.read() is not grpc.aio.EOF:
                pass
        elapsed = time.monotonic() - signalled
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE, ended.value
        assert READINESS_GRACE <= elapsed < READINESS_GRACE + SHUTDOWN_GRACE + 1.0, elapsed
        info = detail(ended.value, error_details_pb2.RetryInfo)
        assert info.retry_delay.ToTimedelta().total_seconds() > 0
    finally:
        for channel in channels.values():
            await channel.close()
