"""A real factor gRPC server (port 0) with the identity service it authenticates against, over PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from zquant.factor.v1 import factor_pb2_grpc
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.testing import StackUsers, running_stack, services, stack_settings


@dataclass
class FactorClient(StackUsers):
    factors: factor_pb2_grpc.FactorServiceStub

    @property
    def app(self):
        return self.client.app("factor")


@pytest.fixture
async def factor(migrated_pg_database):
    """identity + factor in one process (separate schemas of one throw-away database)."""
    settings = stack_settings(migrated_pg_database, "identity", "factor")
    async with running_stack(services("identity", "factor"), settings, bus=InProcessEventBus()) as client:
        yield FactorClient(client, factor_pb2_grpc.FactorServiceStub(client.channel("factor")))
