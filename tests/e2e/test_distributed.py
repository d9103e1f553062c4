"""Distributed mode: `zquant serve identity` as its own process on PostgreSQL + NATS JetStream."""

import asyncio
import os
import subprocess
import sys

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from zquant.identity.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    events_pb2,
    user_pb2,
    user_pb2_grpc,
)
from zquant_kit.events.nats_jetstream import NatsJetStreamBus
from zquant_kit.testing import ADMIN_PASSWORD, free_port, wait_serving

pytestmark = pytest.mark.e2e


async def test_identity_process_over_postgres_and_nats(pg_database, nats_namespace):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZQUANT_")}
    env.update(
        {
            "ZQUANT_IDENTITY_DATABASE_URL": pg_database,
            "ZQUANT_IDENTITY_PORT": str(port),
            "ZQUANT_NATS_URL": nats_namespace["url"],
            "ZQUANT_NATS_STREAM": nats_namespace["stream"],
            "ZQUANT_EVENT_SUBJECT_PREFIX": nats_namespace["prefix"],
            "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
    )
    zquant = [sys.executable, "-m", "zquant_kit.cli"]
    refused = subprocess.run([*zquant, "serve", "identity"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "zquant db upgrade identity" in refused.stderr
    subprocess.run([*zquant, "db", "upgrade", "identity"], env=env, check=True, timeout=60)

    deleted: list[str] = []
    bus = NatsJetStreamBus(nats_namespace["url"], stream=nats_namespace["stream"], prefix=nats_namespace["prefix"])
    await bus.start()

    async def on_deleted(event):
        deleted.append(event.decode(events_pb2.UserDeletedEvent).user_id)

    await bus.subscribe("e2e-marketdata-standin", "identity.user.deleted.v1", on_deleted)
    process = subprocess.Popen(
        [*zquant, "serve", "identity"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    address = f"127.0.0.1:{port}"
    try:
        await wait_serving(address, process, attempts=150)
        async with grpc.aio.insecure_channel(address) as channel:
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            responses = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
            names = [s.name async for r in responses for s in r.list_services_response.service]
            assert "zquant.identity.v1.UserService" in names and "grpc.health.v1.Health" in names

            auth = auth_pb2_grpc.AuthServiceStub(channel)
            users = user_pb2_grpc.UserServiceStub(channel)
            admin = (await auth.Login(auth_pb2.LoginRequest(username="admin", password=ADMIN_PASSWORD))).tokens
            metadata = [("authorization", f"Bearer {admin.access_token}")]
            created = await users.CreateUser(
                user_pb2.CreateUserRequest(username="dave", email="dave@example.com", password="Dave-pass-12"),
                metadata=metadata,
            )
            await users.DeleteUser(user_pb2.DeleteUserRequest(user_id=created.user.id), metadata=metadata)
            for _ in range(100):
                if deleted:
                    break
                await asyncio.sleep(0.1)
            assert deleted == [created.user.id]

            # Audit events cross NATS too: identity consumes its own *.audit.recorded.v1 from the stream.
            audit = audit_pb2_grpc.AuditServiceStub(channel)
            methods: list[str] = []
            for _ in range(100):
                entries = await audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(), metadata=metadata)
                methods = [e.method.rsplit("/", 1)[-1] for e in entries.entries]
                if "DeleteUser" in methods:
                    break
                await asyncio.sleep(0.1)
            assert {"Login", "CreateUser", "DeleteUser"} <= set(methods)
    finally:
        process.terminate()
        process.wait(timeout=20)
        await bus.close()
    assert process.returncode == 0, "SIGTERM must shut down cleanly"
