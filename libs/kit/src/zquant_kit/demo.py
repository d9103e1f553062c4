"""`make demo`: start the all-in-one stack on the embedded default and walk the main flow.

Each step is a real gRPC call over loopback; the data directory is fresh unless ZQUANT_DATA_DIR is set.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile

from zquant.identity.v1 import (
    api_key_pb2,
    api_key_pb2_grpc,
    audit_pb2,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    events_pb2,
    user_pb2,
    user_pb2_grpc,
)
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.events.model import Event
from zquant_kit.grpc.client import bearer, call_with_api_key, insecure_channel
from zquant_kit.runner import start_stack, upgrade_all
from zquant_kit.service import ServiceDefinition
from zquant_kit.settings import Settings


def _step(text: str) -> None:
    print(f"==> {text}", flush=True)


async def run_demo(settings: Settings, known: dict[str, ServiceDefinition]) -> None:
    overrides = {"ZQUANT_EVENT_BUS": "inprocess"}
    if not settings.get("ZQUANT_DATA_DIR"):
        overrides["ZQUANT_DATA_DIR"] = tempfile.mkdtemp(prefix="zquant-demo-")
    admin_password = settings.get("ZQUANT_ADMIN_PASSWORD") or secrets.token_urlsafe(12) + "-Aa1"
    overrides["ZQUANT_ADMIN_PASSWORD"] = admin_password
    settings = settings.with_overrides(**overrides)
    definitions = list(known.values())
    _step(f"all-in-one on SQLite in {settings.data_dir} with the in-process event bus")
    await upgrade_all(definitions, settings)
    for definition in definitions:
        print(f"    migrated {definition.name} → {settings.database_url(definition.name)}")

    bus = InProcessEventBus()
    deleted: list[str] = []

    async def observe_user_deleted(event: Event) -> None:
        deleted.append(event.decode(events_pb2.UserDeletedEvent).user_id)

    await bus.subscribe("demo-observer", "identity.user.deleted.v1", observe_user_deleted)
    stack = await start_stack(definitions, settings, bus=bus, ephemeral_ports=True)
    try:
        for name in stack.servers:
            print(f"    {name} serving gRPC on {stack.address(name)} (health + reflection on)")
        async with insecure_channel(stack.address("identity")) as channel:
            auth = auth_pb2_grpc.AuthServiceStub(channel)
            users = user_pb2_grpc.UserServiceStub(channel)
            keys = api_key_pb2_grpc.ApiKeyServiceStub(channel)
            audit = audit_pb2_grpc.AuditServiceStub(channel)

            _step("admin logs in")
            admin = (await auth.Login(auth_pb2.LoginRequest(username="admin", password=admin_password))).tokens
            print(f"    access token (EdDSA JWT, 15 min): {admin.access_token[:32]}…")

            _step("admin creates researcher 'alice'")
            alice_password = "Alice-" + secrets.token_urlsafe(9)
            created = await users.CreateUser(
                user_pb2.CreateUserRequest(
                    username="alice", email="alice@example.com", password=alice_password, role="researcher"
                ),
                metadata=bearer(admin.access_token),
            )
            print(f"    user id {created.user.id}, role {created.user.role}")

            _step("alice logs in and calls GetMe")
            alice = (await auth.Login(auth_pb2.LoginRequest(username="alice", password=alice_password))).tokens
            me = await users.GetMe(user_pb2.GetMeRequest(), metadata=bearer(alice.access_token))
            print(f"    GetMe → {me.user.username} ({me.user.role}), {len(me.user.permissions)} permissions")

            _step("alice creates an API key and calls GetMe with an HMAC-signed request")
            key = await keys.CreateApiKey(
                api_key_pb2.CreateApiKeyRequest(name="notebook"), metadata=bearer(alice.access_token)
            )
            print(f"    key {key.api_key.id} (secret shown once: {key.secret[:10]}…)")
            via_key = await call_with_api_key(
                users.GetMe,
                user_pb2.GetMeRequest(),
                key_id=key.api_key.id,
                secret=key.secret,
                method="/zquant.identity.v1.UserService/GetMe",
            )
            print(f"    GetMe via API key → {via_key.user.username}")

            _step("admin deletes alice; identity.user.deleted.v1 goes out through the outbox")
            await users.DeleteUser(
                user_pb2.DeleteUserRequest(user_id=created.user.id), metadata=bearer(admin.access_token)
            )
            for _ in range(100):
                if created.user.id in deleted:
                    break
                await asyncio.sleep(0.05)
            if created.user.id not in deleted:
                raise SystemExit("demo failed: user.deleted was not delivered")
            print(f"    consumer received user.deleted for {created.user.id}")
            try:
                await call_with_api_key(
                    users.GetMe,
                    user_pb2.GetMeRequest(),
                    key_id=key.api_key.id,
                    secret=key.secret,
                    method="/zquant.identity.v1.UserService/GetMe",
                )
                raise SystemExit("demo failed: a deleted user's API key still works")
            except Exception as exc:  # grpc.aio.AioRpcError
                print(f"    alice's API key now fails: {getattr(exc, 'code', lambda: exc)().name}")

            _step("audit log (admin only)")
            await asyncio.sleep(0.2)
            entries = await audit.ListAuditEntries(
                audit_pb2.ListAuditEntriesRequest(page_size=10), metadata=bearer(admin.access_token)
            )
            for entry in reversed(entries.entries):
                print(f"    {entry.result_code:<16} {entry.method.rsplit('/', 1)[-1]:<14} {entry.target}")
        _step("demo finished OK")
    finally:
        await stack.stop(1)
