"""ZQUANT_OTEL_EXPORTER=console: gRPC server and client spans, SQL spans of every service's engine, consumer spans."""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent(
    """
    import asyncio, tempfile
    import grpc
    from zquant.identity.v1 import auth_pb2, auth_pb2_grpc
    from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc
    from zquant_kit.events.inprocess import InProcessEventBus
    from zquant_kit.grpc.client import bearer
    from zquant_kit.runner import start_stack, upgrade_all
    from zquant_kit.service import discover
    from zquant_kit.settings import Settings

    async def main():
        settings = Settings({"ZQUANT_DATA_DIR": tempfile.mkdtemp(), "ZQUANT_ADMIN_PASSWORD": "Admin-Passw0rd!",
                             "ZQUANT_OTEL_EXPORTER": "console"})
        services = list(discover().values())
        await upgrade_all(services, settings)
        stack = await start_stack(services, settings, bus=InProcessEventBus(), ephemeral_ports=True)
        async with grpc.aio.insecure_channel(stack.address("identity")) as channel:
            login = auth_pb2.LoginRequest(username="admin", password="Admin-Passw0rd!")
            token = (await auth_pb2_grpc.AuthServiceStub(channel).Login(login)).tokens.access_token
        async with grpc.aio.insecure_channel(stack.address("marketdata")) as channel:
            await sync_pb2_grpc.SyncServiceStub(channel).GetSyncStatus(
                sync_pb2.GetSyncStatusRequest(), metadata=bearer(token))
        await asyncio.sleep(0.5)
        await stack.stop(0)

    asyncio.run(main())
    """
)


def test_console_exporter_traces_rpcs_sql_and_events():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZQUANT_")}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert '"name": "/zquant.identity.v1.AuthService/Login"' in out
    assert '"name": "/zquant.marketdata.v1.SyncService/GetSyncStatus"' in out
    assert out.count('"name": "/zquant.common.v1.TokenVerificationService/GetVerificationKeys"') == 2  # client + server span
    assert "identity.db" in out and "marketdata.db" in out  # SQL spans from both engines
    assert '"name": "consume identity.audit.recorded.v1"' in out
