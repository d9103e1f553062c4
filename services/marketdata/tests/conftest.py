"""A real marketdata gRPC server (port 0) with the identity service it authenticates against, over PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from zquant.marketdata.v1 import market_data_pb2_grpc, sync_pb2_grpc, watchlist_pb2_grpc
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.settings import Settings
from zquant_kit.testing import StackClient, StackUsers, running_stack, services, stack_settings


@dataclass
class MarketDataClient(StackUsers):
    market: market_data_pb2_grpc.MarketDataServiceStub
    sync: sync_pb2_grpc.SyncServiceStub
    watchlist: watchlist_pb2_grpc.WatchlistServiceStub

    @property
    def app(self):
        return self.client.app("marketdata")

    @property
    def stack(self):
        return self.client.stack

    @property
    def identity_channel(self):
        return self.client.channel("identity")


def market_client(client: StackClient) -> MarketDataClient:
    channel = client.channel("marketdata")
    return MarketDataClient(
        client=client,
        market=market_data_pb2_grpc.MarketDataServiceStub(channel),
        sync=sync_pb2_grpc.SyncServiceStub(channel),
        watchlist=watchlist_pb2_grpc.WatchlistServiceStub(channel),
    )


@pytest.fixture
def marketdata_extra_settings() -> dict[str, str]:
    """What a test module adds to the stack's settings: override this fixture in the module."""
    return {}


@pytest.fixture
def marketdata_settings(migrated_pg_database, marketdata_extra_settings) -> Settings:
    """identity and marketdata in separate schemas of one database, on the in-process bus."""
    return stack_settings(migrated_pg_database, "identity", "marketdata", **marketdata_extra_settings)


@pytest.fixture
async def marketdata(marketdata_settings):
    """identity + marketdata in one process (separate schemas of one throw-away database)."""
    async with running_stack(services("identity", "marketdata"), marketdata_settings, bus=InProcessEventBus()) as client:
        yield market_client(client)
