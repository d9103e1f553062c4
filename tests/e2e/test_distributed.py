"""Distributed mode: `zquant serve identity` as its own process on PostgreSQL + NATS JetStream."""

import subprocess

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from zquant.identity.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    events_pb2,
    user_pb2,
    user_pb2_grpc,
)
from zquant_kit.events.nats_jetstream import NatsJetStreamBus
from zquant_kit.testing import (
    ZQUANT_CLI,
    admin_metadata,
    create_user,
    eventually,
    free_port,
    nats_settings,
    serve,
    served_env,
    wait_serving,
)

pytestmark = pytest.mark.e2e


async def test_identity_process_over_postgres_and_nats(pg_database, nats_namespace):
    port = free_port()
    env = served_env({"identity": port}, ZQUANT_IDENTITY_DATABASE_URL=pg_database, **nats_settings(nats_namespace))
    refused = subprocess.run([*ZQUANT_CLI, "serve", "identity"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "zquant db upgrade identity" in refused.stderr
    subprocess.run([*ZQUANT_CLI, "db", "upgrade", "identity"], env=env, check=True, timeout=60)

    deleted: list[str] = []
    bus = NatsJetStreamBus(nats_namespace["url"], stream=nats_namespace["stream"], prefix=nats_namespace["prefix"])
    await bus.start()

    async def on_deleted(event):
        deleted.append(event.decode(events_pb2.UserDeletedEvent).user_id)

    await bus.subscribe("e2e-marketdata-standin", "identity.user.deleted.v1", on_deleted)
    process = serve("identity", env)
    address = f"127.0.0.1:{port}"
    try:
        await wait_serving(address, process)
        async with grpc.aio.insecure_channel(address) as channel:
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            responses = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
            names = [s.name async for r in responses for s in r.list_services_response.service]
            assert "zquant.identity.v1.UserService" in names and "grpc.health.v1.Health" in names

            users = user_pb2_grpc.UserServiceStub(channel)
            metadata = await admin_metadata(channel)
            created, _ = await create_user(channel, "dave", password="Dave-pass-12", admin=metadata)
            await users.DeleteUser(user_pb2.DeleteUserRequest(user_id=created.id), metadata=metadata)

            async def deleted_ids() -> list[str]:
                return deleted

            assert await eventually(deleted_ids, timeout=10.0, interval=0.1) == [created.id]

            # Audit events cross NATS too: identity consumes its own *.audit.recorded.v1 from the stream.
            audit = audit_pb2_grpc.AuditServiceStub(channel)

            async def audited_methods() -> list[str]:
                entries = await audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(), metadata=metadata)
                return [e.method.rsplit("/", 1)[-1] for e in entries.entries]

            methods = await eventually(audited_methods, lambda found: "DeleteUser" in found, timeout=10.0, interval=0.1)
            assert {"Login", "CreateUser", "DeleteUser"} <= set(methods)
    finally:
        process.terminate()
        process.wait(timeout=20)
        await bus.close()
    assert process.returncode == 0, "SIGTERM must shut down cleanly"
