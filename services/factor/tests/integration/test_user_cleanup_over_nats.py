"""Deleting a user in identity removes their private factors (with values) in the factor service, through
identity's outbox and real NATS JetStream, once: a replay of the very event identity stored is a no-op."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from zquant.factor.v1 import factor_pb2 as pb
from zquant.factor.v1 import factor_pb2_grpc
from zquant_factor.adapters.sqlalchemy import tables
from zquant_factor.application.definitions import USER_CLEANUP_CONSUMER, USER_DELETED
from zquant_kit.testing import (
    admin_metadata,
    create_user,
    delete_user,
    eventually,
    nats_stack,
    processed_events,
    stored_event,
)

pytestmark = pytest.mark.integration


def definition(name: str, visibility: int) -> pb.CreateFactorDefinitionRequest:
    return pb.CreateFactorDefinitionRequest(
        factor_name=name, cn_name=name, en_name=name, column_name=name, description="",
        kind=pb.FACTOR_KIND_BUILTIN_INDICATOR, visibility=visibility,
    )  # fmt: skip


async def owned_by(app, user_id: str) -> int:
    async with app.engine.connect() as connection:
        query = (
            select(func.count())
            .select_from(tables.definitions)
            .where(tables.definitions.c.owner_id == user_id)
        )
        return int(await connection.scalar(query))


async def test_user_deleted_crosses_nats_jetstream_once(migrated_pg_database, nats_namespace):
    async with nats_stack(migrated_pg_database, nats_namespace, "identity", "factor") as client:
        app = client.app("factor")
        admin = await admin_metadata(client.channel("identity"))
        created, nadia = await create_user(
            client.channel("identity"), "nadia", password="Nadia-pass-1", admin=admin
        )
        factors = factor_pb2_grpc.FactorServiceStub(client.channel("factor"))
        private = (
            await factors.CreateFactorDefinition(definition("mine", pb.VISIBILITY_PRIVATE), metadata=nadia)
        ).definition
        await factors.CreateFactorDefinition(definition("ours", pb.VISIBILITY_SHARED), metadata=nadia)
        days = np.array(["2024-01-02"], dtype="datetime64[D]")
        await app.values.write(private.id, "mine", ["600000.SH"], days, np.ones((1, 1)))

        await delete_user(client.channel("identity"), created.id, admin)

        async def private_gone() -> bool:
            return await owned_by(app, created.id) == 1

        assert await eventually(private_gone, timeout=5.0), "the event did not arrive over NATS within 5 s"
        assert await app.values.last_date(private.id, "mine") is None
        async with app.engine.connect() as connection:
            processed = await processed_events(connection, tables.processed_messages, USER_CLEANUP_CONSUMER)
            replayed = await stored_event(connection, "identity", processed[0])
        assert replayed.type == USER_DELETED and len(processed) == 1
        await app.definitions.on_user_deleted(replayed)
        assert await owned_by(app, created.id) == 1, "the shared factor stays, attributed to a deleted user"
