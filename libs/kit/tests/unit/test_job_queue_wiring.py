"""The job queue of a service: its names from the settings, the queue they select, and its life with the service
(queue first, then the service's loops; on stop the loops in reverse, then the queue)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import MetaData

from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.infrastructure import Infrastructure, ServiceConfig
from zquant_kit.jobs.background import QueueLoops, run_with_service
from zquant_kit.jobs.config import JobQueueConfig
from zquant_kit.jobs.inprocess import InProcessJobQueue
from zquant_kit.jobs.nats_jetstream import NatsJetStreamJobQueue
from zquant_kit.persistence.outbox import outbox_table
from zquant_kit.settings import Settings

pytestmark = pytest.mark.unit


def test_names_come_from_the_stream_and_prefix_settings_and_a_url_selects_nats():
    settings = Settings({"ZQUANT_NATS_URL": "nats://x:4222", "ZQUANT_NATS_STREAM": "S"})
    config = JobQueueConfig.from_settings("factor", settings, concurrency=2)
    assert (config.stream, config.prefix, config.concurrency) == ("S_FACTOR_JOBS", "zqjobs.factor", 2)
    assert config.ack_wait_seconds == 30.0
    assert isinstance(config.queue(), NatsJetStreamJobQueue)
    local = JobQueueConfig.from_settings("factor", Settings({}), concurrency=1)
    assert isinstance(local.queue(), InProcessJobQueue)


class RecordingQueue(InProcessJobQueue):
    def __init__(self, calls: list[str]) -> None:
        super().__init__()
        self.calls = calls

    async def start(self) -> None:
        self.calls.append("queue started")

    async def close(self) -> None:
        self.calls.append("queue closed")
        await super().close()


async def test_the_queue_starts_first_and_closes_after_the_loops_stopped_in_reverse(tmp_path):
    config = ServiceConfig.from_settings("factor", Settings({"ZQUANT_DATA_DIR": str(tmp_path)}))
    metadata = MetaData(schema="factor")
    infra = Infrastructure(config, "factor", outbox_table(metadata), InProcessEventBus())
    async with infra.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    calls: list[str] = []
    queue = RecordingQueue(calls)

    def loop(name: str):
        async def run() -> None:
            calls.append(f"{name} running")
            try:
                await asyncio.Event().wait()
            finally:
                calls.append(f"{name} stopped")

        return run()

    async def started(loops: QueueLoops) -> None:
        calls.append("started")
        loops.start(loop("follower"), "follower")
        loops.start(loop("worker"), "worker")

    run_with_service(infra, queue, started)
    await infra.start()
    await asyncio.sleep(0)
    await infra.stop()
    assert calls == [
        "queue started", "started", "follower running", "worker running",
        "worker stopped", "follower stopped", "queue closed",
    ]  # fmt: skip
