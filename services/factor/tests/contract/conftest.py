"""A real factor gRPC server (port 0) with the identity service it authenticates against, over PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from zquant.factor.v1 import factor_pb2_grpc
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.settings import Settings
from zquant_kit.testing import (
    ADMIN_PASSWORD,
    Metadata,
    StackClient,
    admin_metadata,
    create_user,
    running_stack,
    services,
)


@dataclass
class FactorClient:
    client: StackClient
    factors: factor_pb2_grpc.FactorServiceStub

    @property
    def app(self):
        return self.client.app("factor")

    async def admin(self) -> Metadata:
        return await admin_metadata(self.client.channel("identity"))

    async def user(self, username: str, role: str = "researcher") -> tuple[str, Metadata]:
        """Creates a user through identity; returns (user id, bearer metadata)."""
        created, metadata = await create_user(self.client.channel("identity"), username, role=role)
        return created.id, metadata


@pytest.fixture
async def factor(migrated_pg_database):
    """identity + factor in one process (separate schemas of one throw-away database)."""
    settings = Settings(
        {
            "ZQUANT_IDENTITY_DATABASE_URL": migrated_pg_database,
            "ZQUANT_FACTOR_DATABASE_URL": migrated_pg_database,
            "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ZQUANT_EVENT_BUS": "inprocess",
            "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
        }
    )
    async with running_stack(services("identity", "factor"), settings, bus=InProcessEventBus()) as client:
        yield FactorClient(client, factor_pb2_grpc.FactorServiceStub(client.channel("factor")))
