"""A deleted user's factors go across processes: identity, marketdata and factor each `zquant serve <name>` on
PostgreSQL + NATS JetStream (a private nats-server the test stops). Each user has a private factor with values
calculated through a job, and a shared one; on identity.user.deleted.v1 the factor process removes the private
factor with its values and keeps the shared one, attributed to a deleted user, also for a user deleted while
NATS was down: identity's outbox holds the event until the broker is back."""

from __future__ import annotations

import asyncio

import grpc
import psycopg
import pytest

from tests.e2e.distributed_env import distributed_env
from zquant.factor.v1 import calculation_pb2, calculation_pb2_grpc, factor_pb2, factor_pb2_grpc
from zquant.identity.v1 import user_pb2, user_pb2_grpc
from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc
from zquant_kit.testing import Metadata, admin_metadata, conninfo, create_user, eventually, serving

pytestmark = pytest.mark.e2e

BARS = ["stock_basic", "trade_cal", "daily", "adj_factor"]


def _definition(name: str, visibility: int) -> factor_pb2.CreateFactorDefinitionRequest:
    return factor_pb2.CreateFactorDefinitionRequest(
        factor_name=name, cn_name=name, en_name=name, column_name=name, description="",
        kind=factor_pb2.FACTOR_KIND_BUILTIN_INDICATOR, visibility=visibility,
    )  # fmt: skip


async def _factor_with_values(channel: grpc.aio.Channel, user: Metadata, name: str, days: tuple[str, str]) -> str:
    """A private MA(5) factor of `user`, calculated (stored) over `days` through a job."""
    factors = factor_pb2_grpc.FactorServiceStub(channel)
    created = await factors.CreateFactorDefinition(_definition(name, factor_pb2.VISIBILITY_PRIVATE), metadata=user)
    factor_id = created.definition.id
    params = [factor_pb2.ParamValue(name="n", int_value=5)]
    model = factor_pb2.CreateFactorModelRequest(factor_id=factor_id, model_code="ma", params=params)
    await factors.CreateFactorModel(model, metadata=user)
    request = calculation_pb2.CalculateFactorsRequest(factor_ids=[factor_id], start_date=days[0], end_date=days[1])
    stub = calculation_pb2_grpc.FactorCalculationServiceStub(channel)
    replies = [reply async for reply in stub.CalculateFactors(request, metadata=user)]
    assert replies[-1].state == "succeeded", replies[-1]
    return factor_id


async def _stored(database: str, user_id: str, factor_id: str) -> tuple[int, int]:
    """(definitions the user owns, value blocks of `factor_id`) in the factor schema."""
    async with await psycopg.AsyncConnection.connect(conninfo(database)) as db:
        owned = await db.execute("SELECT count(*) FROM factor.definitions WHERE owner_id = %s", (user_id,))
        blocks = await db.execute("SELECT count(*) FROM factor.value_blocks WHERE factor_id = %s", (factor_id,))
        return (await owned.fetchone())[0], (await blocks.fetchone())[0]


async def test_a_deleted_users_factors_go_in_the_factor_process_even_if_nats_was_down(
    migrated_pg_database, own_nats, tmp_path
):
    own_nats.start()
    namespace = {"url": own_nats.url, "stream": "ZQ_E2E_CLEANUP", "prefix": "zqe"}
    ports, env = distributed_env(
        migrated_pg_database, namespace, str(tmp_path / "data"), ("identity", "marketdata", "factor"),
        ZQUANT_FACTOR_WORKERS="1", ZQUANT_SAMPLE_STOCKS="5",
    )  # fmt: skip
    async with (
        serving(env, ports, upgrade=False) as addresses,
        grpc.aio.insecure_channel(addresses["identity"]) as identity,
        grpc.aio.insecure_channel(addresses["marketdata"]) as marketdata,
        grpc.aio.insecure_channel(addresses["factor"]) as factor,
    ):
        admin = await admin_metadata(identity)
        sync = sync_pb2_grpc.SyncServiceStub(marketdata).StartSync(
            sync_pb2.StartSyncRequest(datasets=BARS), metadata=admin
        )
        assert [reply.progress async for reply in sync][-1].state == "succeeded"
        days = ("20240101", "20241231")
        owners, private = {}, {}
        for name in ("nadia", "omar"):
            created, user = await create_user(identity, name, admin=admin)
            owners[name] = created.id
            private[name] = await _factor_with_values(factor, user, f"mine_{name}", days)
            shared = _definition(f"ours_{name}", factor_pb2.VISIBILITY_SHARED)
            await factor_pb2_grpc.FactorServiceStub(factor).CreateFactorDefinition(shared, metadata=user)
            owned, blocks = await _stored(migrated_pg_database, created.id, private[name])
            assert owned == 2 and blocks > 0

        users = user_pb2_grpc.UserServiceStub(identity)

        async def cleaned(name: str, timeout: float) -> tuple[int, int]:
            return await eventually(
                lambda: _stored(migrated_pg_database, owners[name], private[name]),
                lambda found: found == (1, 0), timeout=timeout, interval=0.1,
            )  # fmt: skip

        await users.DeleteUser(user_pb2.DeleteUserRequest(user_id=owners["nadia"]), metadata=admin)
        assert await cleaned("nadia", 10.0) == (1, 0)

        own_nats.stop()
        await users.DeleteUser(user_pb2.DeleteUserRequest(user_id=owners["omar"]), metadata=admin)
        await asyncio.sleep(0.5)  # identity's relay tries and fails meanwhile
        assert await _stored(migrated_pg_database, owners["omar"], private["omar"]) != (1, 0)
        own_nats.start()
        assert await cleaned("omar", 20.0) == (1, 0)

        listed = await factor_pb2_grpc.FactorServiceStub(factor).ListFactorDefinitions(
            factor_pb2.ListFactorDefinitionsRequest(), metadata=admin
        )
        kept = {d.factor_name: d.owner_display for d in listed.definitions if d.factor_name.startswith(("mine", "ours"))}
        assert kept == {"ours_nadia": "deleted user", "ours_omar": "deleted user"}
