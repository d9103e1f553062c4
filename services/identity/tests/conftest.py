"""A real identity gRPC server (port 0) over a throw-away PostgreSQL database."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import pytest
from cryptography.fernet import Fernet

from zquant.common.v1 import token_verification_pb2_grpc
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
from zquant_kit import testing
from zquant_kit.events.inprocess import InProcessEventBus


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
    verification: token_verification_pb2_grpc.TokenVerificationServiceStub
    address: str

    async def login(self, username: str, password: str) -> auth_pb2.TokenPair:
        return await testing.login(self.channel, username, password)

    async def admin_metadata(self) -> testing.Metadata:
        return await testing.admin_metadata(self.channel)

    async def create_user(
        self, username: str, role: str = "researcher", password: str = testing.USER_PASSWORD
    ) -> tuple[user_pb2.User, testing.Metadata]:
        """Creates a user as admin and returns (user, bearer metadata of that user)."""
        return await testing.create_user(self.channel, username, role=role, password=password)


@pytest.fixture
def migrated_services() -> tuple[str, ...]:
    """identity's tests start identity alone: its template skips the other services' migrations."""
    return ("identity",)


@pytest.fixture
def identity_settings(migrated_pg_database, tmp_path):
    return testing.stack_settings(
        migrated_pg_database,
        "identity",
        ZQUANT_DATA_DIR=str(tmp_path / "data"),
        ZQUANT_SECRET_KEY=Fernet.generate_key().decode(),
    )


@pytest.fixture
async def identity(identity_settings):
    async with testing.running_stack([SERVICE], identity_settings, bus=InProcessEventBus()) as stack:
        channel = stack.channel("identity")
        yield IdentityClient(
            channel=channel,
            app=stack.app("identity"),
            auth=auth_pb2_grpc.AuthServiceStub(channel),
            users=user_pb2_grpc.UserServiceStub(channel),
            roles=role_pb2_grpc.RoleServiceStub(channel),
            api_keys=api_key_pb2_grpc.ApiKeyServiceStub(channel),
            notifications=notification_pb2_grpc.NotificationServiceStub(channel),
            audit=audit_pb2_grpc.AuditServiceStub(channel),
            verification=token_verification_pb2_grpc.TokenVerificationServiceStub(channel),
            address=stack.stack.address("identity"),
        )
