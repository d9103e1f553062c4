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
    from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc
    from zquant_kit.events.inprocess import InProcessEventBus
    from zquant_kit.settings import Settings
    from zquant_kit.testing import ADMIN_PASSWORD, admin_metadata, running_stack, services

    async def main():
        settings = Settings({"ZQUANT_DATA_DIR": tempfile.mkdtemp(), "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
                             "ZQUANT_OTEL_EXPORTER": "console"})
        async with running_stack(services(), settings, bus=InProcessEventBus()) as client:
            admin = await admin_metadata(client.channel("identity"))
            await sync_pb2_grpc.SyncServiceStub(client.channel("marketdata")).GetSyncStatus(
                sync_pb2.GetSyncStatusRequest(), metadata=admin)
            await asyncio.sleep(0.5)

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
