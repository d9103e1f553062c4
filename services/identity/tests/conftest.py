"""A real identity gRPC server (port 0) over a throw-away PostgreSQL database."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import pytest
from cryptography.fernet import Fernet

from zquant.identity.v1 import (
    api_key_pb2_grpc,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    notification_pb2_grpc,
    role_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from zquant_identity.bootstrap import SERVICE
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.grpc.client import bearer
from zquant_kit.runner import start_stack, upgrade_all
from zquant_kit.settings import Settings
from zquant_kit.testing import ADMIN_PASSWORD


@dataclass
class IdentityClient:
    channel: grpc.aio.Channel
    app: object
    auth: auth_pb2_grpc.AuthServiceStub
    users: user_pb2_grpc.UserServiceStub
    roles: role_pb2_grpc.RoleServiceStub
    api_keys: api_key_pb2_grpc.ApiKeyServiceStub
    notifications: notification_pb2_grpc.NotificationServiceStub
    audit: audit_pb2_grpc.AuditServiceStub
    address: str

    async def login(self, username: str, password: str) -> auth_pb2.TokenPair:
        return (await self.auth.Login(auth_pb2.LoginRequest(username=username, password=password))).tokens

    async def admin_metadata(self):
        return bearer((await self.login("admin", ADMIN_PASSWORD)).access_token)

    async def create_user(self, username: str, role: str = "researcher", password: str = "Secret-pass-1"):
        """Creates a user as admin and returns (user, bearer metadata of that user)."""
        created = await self.users.CreateUser(
            user_pb2.CreateUserRequest(
                username=username, email=f"{username}@example.com", password=password, role=role
            ),
            metadata=await self.admin_metadata(),
        )
        tokens = await self.login(username, password)
        return created.user, bearer(tokens.access_token)


@pytest.fixture
def identity_settings(pg_database, tmp_path):
    return Settings(
        {
            "ZQUANT_IDENTITY_DATABASE_URL": pg_database,
            "ZQUANT_DATA_DIR": str(tmp_path / "data"),
            "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ZQUANT_EVENT_BUS": "inprocess",
            "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
            "ZQUANT_SECRET_KEY": Fernet.generate_key().decode(),
        }
    )


@pytest.fixture
async def identity(identity_settings):
    await upgrade_all([SERVICE], identity_settings)
    stack = await start_stack([SERVICE], identity_settings, bus=InProcessEventBus(), ephemeral_ports=True)
    address = stack.address("identity")
    channel = grpc.aio.insecure_channel(address)
    try:
        yield IdentityClient(
            channel=channel,
            app=stack.apps["identity"],
            auth=auth_pb2_grpc.AuthServiceStub(channel),
            users=user_pb2_grpc.UserServiceStub(channel),
            roles=role_pb2_grpc.RoleServiceStub(channel),
            api_keys=api_key_pb2_grpc.ApiKeyServiceStub(channel),
            notifications=notification_pb2_grpc.NotificationServiceStub(channel),
            audit=audit_pb2_grpc.AuditServiceStub(channel),
            address=address,
        )
    finally:
        await channel.close()
        await stack.stop(0)
