"""Users for tests: the passwords the stacks seed, and creating a user and logging in through identity's API.

These helpers are clients of identity's public gRPC contract, as any other service or user is.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from zquant.identity.v1 import auth_pb2, auth_pb2_grpc, user_pb2, user_pb2_grpc
from zquant_kit.grpc.client import bearer
from zquant_kit.testing.stacks import StackClient

ADMIN_PASSWORD = "Admin-Passw0rd!"
USER_PASSWORD = "Secret-pass-1"

Metadata = list[tuple[str, str]]


async def login(
    channel: grpc.aio.Channel, username: str, password: str = USER_PASSWORD
) -> auth_pb2.TokenPair:
    """The token pair identity answers a Login with."""
    reply = await auth_pb2_grpc.AuthServiceStub(channel).Login(
        auth_pb2.LoginRequest(username=username, password=password), timeout=10
    )
    return reply.tokens


async def sign_in(channel: grpc.aio.Channel, username: str, password: str = USER_PASSWORD) -> Metadata:
    """Bearer metadata of a fresh login."""
    return bearer((await login(channel, username, password)).access_token)


async def admin_metadata(channel: grpc.aio.Channel, password: str = ADMIN_PASSWORD) -> Metadata:
    """Bearer metadata of the seeded admin."""
    return await sign_in(channel, "admin", password)


async def create_user(
    channel: grpc.aio.Channel,
    username: str,
    *,
    role: str = "researcher",
    password: str = USER_PASSWORD,
    admin: Metadata | None = None,
) -> tuple[user_pb2.User, Metadata]:
    """Creates `username` as the admin (logging the admin in unless `admin` is given); returns (user, its bearer)."""
    created = await user_pb2_grpc.UserServiceStub(channel).CreateUser(
        user_pb2.CreateUserRequest(
            username=username, email=f"{username}@example.com", password=password, role=role
        ),
        metadata=admin if admin is not None else await admin_metadata(channel),
    )
    return created.user, await sign_in(channel, username, password)


async def delete_user(channel: grpc.aio.Channel, user_id: str, admin: Metadata) -> None:
    """Deletes `user_id` as the admin: what the other services' user-cleanup consumers react to."""
    await user_pb2_grpc.UserServiceStub(channel).DeleteUser(
        user_pb2.DeleteUserRequest(user_id=user_id), metadata=admin
    )


@dataclass
class StackUsers:
    """A test's handle on a running stack that includes identity, for the users it acts as; a service's own test
    client subclasses it and adds that service's stubs."""

    client: StackClient

    async def admin(self) -> Metadata:
        return await admin_metadata(self.client.channel("identity"))

    async def user(self, username: str, role: str = "researcher") -> tuple[str, Metadata]:
        """Creates a user through identity; returns (user id, bearer metadata)."""
        created, metadata = await create_user(self.client.channel("identity"), username, role=role)
        return created.id, metadata

    async def login(self, username: str, password: str) -> Metadata:
        return await sign_in(self.client.channel("identity"), username, password)
