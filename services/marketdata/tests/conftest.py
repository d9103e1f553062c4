"""A real marketdata gRPC server (port 0) with the identity service it authenticates against, over PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import pytest

from zquant.identity.v1 import auth_pb2, auth_pb2_grpc, user_pb2, user_pb2_grpc
from zquant.marketdata.v1 import market_data_pb2_grpc, sync_pb2_grpc, watchlist_pb2_grpc
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.grpc.client import bearer
from zquant_kit.runner import RunningStack, start_stack, upgrade_all
from zquant_kit.service import discover
from zquant_kit.settings import Settings
from zquant_kit.testing import ADMIN_PASSWORD


@dataclass
class MarketDataClient:
    stack: RunningStack
    channel: grpc.aio.Channel
    identity_channel: grpc.aio.Channel
    market: market_data_pb2_grpc.MarketDataServiceStub
    sync: sync_pb2_grpc.SyncServiceStub
    watchlist: watchlist_pb2_grpc.WatchlistServiceStub

    @property
    def app(self):
        return self.stack.apps["marketdata"]

    async def login(self, username: str, password: str) -> list[tuple[str, str]]:
        auth = auth_pb2_grpc.AuthServiceStub(self.identity_channel)
        tokens = (await auth.Login(auth_pb2.LoginRequest(username=username, password=password))).tokens
        return bearer(tokens.access_token)

    async def admin(self) -> list[tuple[str, str]]:
        return await self.login("admin", ADMIN_PASSWORD)

    async def user(self, username: str, role: str = "researcher") -> tuple[str, list[tuple[str, str]]]:
        """Creates a user through identity; returns (user id, bearer metadata)."""
        users = user_pb2_grpc.UserServiceStub(self.identity_channel)
        password = "Secret-pass-1"
        created = await users.CreateUser(
            user_pb2.CreateUserRequest(username=username, email=f"{username}@example.com", password=password, role=role),
            metadata=await self.admin(),
        )
        return created.user.id, await self.login(username, password)


def stack_settings(pg_database: str, **extra: str) -> Settings:
    return Settings(
        {
            "ZQUANT_IDENTITY_DATABASE_URL": pg_database,
            "ZQUANT_MARKETDATA_DATABASE_URL": pg_database,
            "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ZQUANT_EVENT_BUS": "inprocess",
            "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
            **extra,
        }
    )


@pytest.fixture
async def marketdata(pg_database):
    """identity + marketdata in one process (separate schemas of one throw-away database)."""
    known = discover()
    definitions = [known["identity"], known["marketdata"]]
    settings = stack_settings(pg_database)
    await upgrade_all(definitions, settings)
    stack = await start_stack(definitions, settings, bus=InProcessEventBus(), ephemeral_ports=True)
    channel = grpc.aio.insecure_channel(stack.address("marketdata"))
    identity_channel = grpc.aio.insecure_channel(stack.address("identity"))
    try:
        yield MarketDataClient(
            stack=stack,
            channel=channel,
            identity_channel=identity_channel,
            market=market_data_pb2_grpc.MarketDataServiceStub(channel),
            sync=sync_pb2_grpc.SyncServiceStub(channel),
            watchlist=watchlist_pb2_grpc.WatchlistServiceStub(channel),
        )
    finally:
        await channel.close()
        await identity_channel.close()
        await stack.stop(0)
