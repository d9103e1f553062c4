"""A scheduler run's failure published on real NATS JetStream lands once in the owner's inbox (durable consumer)."""

from __future__ import annotations

import asyncio

import pytest

from zquant.identity.v1 import notification_pb2, notification_pb2_grpc
from zquant.scheduler.v1 import events_pb2 as scheduler_events
from zquant_identity.bootstrap import SERVICE
from zquant_kit.events.model import Event
from zquant_kit.events.nats_jetstream import NatsJetStreamBus
from zquant_kit.testing import create_user, eventually, nats_settings, running_stack, stack_settings

pytestmark = pytest.mark.integration


async def test_run_failed_on_nats_is_delivered_once(pg_database, nats_namespace, tmp_path):
    settings = stack_settings(
        pg_database, "identity", ZQUANT_DATA_DIR=str(tmp_path), **nats_settings(nats_namespace)
    )
    async with running_stack([SERVICE], settings) as client:
        channel = client.channel("identity")
        owner, metadata = await create_user(channel, "owner")
        publisher = NatsJetStreamBus(
            nats_namespace["url"], stream=nats_namespace["stream"], prefix=nats_namespace["prefix"]
        )
        await publisher.start()
        try:
            event = Event.create(
                "scheduler.run.failed.v1",
                scheduler_events.RunEndedEvent(
                    run_id="r1", job_name="sync", owner_id=owner.id, status="failed", attempts=1
                ),
            )
            await publisher.publish(event)
            await publisher.publish(event)  # a duplicate publish is a no-op at the consumer
            inbox = notification_pb2_grpc.NotificationServiceStub(channel)

            async def listed() -> list:
                reply = await inbox.ListNotifications(
                    notification_pb2.ListNotificationsRequest(), metadata=metadata
                )
                return list(reply.notifications)

            assert await eventually(lambda: _nonempty(listed), timeout=20.0)
            await asyncio.sleep(1.0)
            found = await listed()
            assert [(n.id, n.title) for n in found] == [(event.id, "Scheduled run failed: sync")]
        finally:
            await publisher.close()


async def _nonempty(listed) -> bool:
    return bool(await listed())
