"""user.deleted committed while NATS is down is delivered exactly once after NATS comes back."""

import asyncio

import pytest
from sqlalchemy import MetaData, select

from zquant.identity.v1 import events_pb2, user_pb2, user_pb2_grpc
from zquant_identity.adapters.sqlalchemy.tables import outbox
from zquant_identity.bootstrap import SERVICE
from zquant_kit.events.model import Event
from zquant_kit.events.nats_jetstream import NatsJetStreamBus
from zquant_kit.persistence.engine import create_engine, session_factory
from zquant_kit.persistence.idempotency import claim_message, processed_messages_table
from zquant_kit.persistence.outbox import outbox_event
from zquant_kit.settings import Settings
from zquant_kit.testing import ADMIN_PASSWORD, admin_metadata, create_user, eventually, running_stack

pytestmark = pytest.mark.integration


async def test_user_deleted_survives_a_broker_outage(migrated_pg_database, own_nats, tmp_path):
    own_nats.start()
    settings = Settings(
        {
            "ZQUANT_IDENTITY_DATABASE_URL": migrated_pg_database,
            "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ZQUANT_NATS_URL": own_nats.url,
            "ZQUANT_NATS_STREAM": "ZQ_OUTAGE",
            "ZQUANT_EVENT_SUBJECT_PREFIX": "zqo",
            "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
        }
    )
    async with running_stack([SERVICE], settings) as client:
        # A durable, idempotent consumer standing in for another service, with its own database.
        consumer_metadata = MetaData()
        processed = processed_messages_table(consumer_metadata)
        consumer_engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'consumer.db'}", "consumer")
        async with consumer_engine.begin() as connection:
            await connection.run_sync(consumer_metadata.create_all)
        consumer_sessions = session_factory(consumer_engine)
        effects: list[str] = []

        async def on_user_deleted(event: Event) -> None:
            async with consumer_sessions() as session, session.begin():
                if await claim_message(session, processed, "test-consumer", event.id):
                    effects.append(event.decode(events_pb2.UserDeletedEvent).user_id)

        consumer_bus = NatsJetStreamBus(own_nats.url, stream="ZQ_OUTAGE", prefix="zqo")
        await consumer_bus.start()
        await consumer_bus.subscribe("test-consumer", "identity.user.deleted.v1", on_user_deleted)
        try:
            channel = client.channel("identity")
            users = user_pb2_grpc.UserServiceStub(channel)
            metadata = await admin_metadata(channel)
            created, _ = await create_user(channel, "carol", password="Carol-pass-1", admin=metadata)

            own_nats.stop()
            await users.DeleteUser(user_pb2.DeleteUserRequest(user_id=created.id), metadata=metadata)
            app = client.app("identity")

            async def pending_delete():
                async with app.sessions() as session:
                    rows = (
                        await session.execute(
                            select(outbox.c.published_at).where(
                                outbox.c.event_type == "identity.user.deleted.v1"
                            )
                        )
                    ).all()
                return rows

            rows = await pending_delete()
            assert len(rows) == 1 and rows[0].published_at is None, (
                "the event waits in the outbox while NATS is down"
            )
            await asyncio.sleep(1.0)
            assert effects == []

            own_nats.start()

            async def delivered():
                return effects == [created.id]

            assert await eventually(delivered, timeout=30.0, interval=0.1), (
                f"not delivered after NATS came back: {effects}"
            )
            assert await eventually(lambda: _published(pending_delete), timeout=30.0, interval=0.1)

            # Replays are no-ops: the same message again through the consumer, and a duplicate publish.
            async with app.sessions() as session:
                row = (
                    (
                        await session.execute(
                            select(outbox).where(outbox.c.event_type == "identity.user.deleted.v1")
                        )
                    )
                    .mappings()
                    .one()
                )
            replay = outbox_event(row)
            await on_user_deleted(replay)
            await consumer_bus.publish(replay)
            await asyncio.sleep(1.5)
            assert effects == [created.id]
        finally:
            await consumer_bus.close()
            await consumer_engine.dispose()


async def _published(pending_delete) -> bool:
    rows = await pending_delete()
    return rows[0].published_at is not None
