"""The `nats_namespace` teardown leaves nothing behind: the event stream and the job queues' streams named after
it (`<stream>_<SERVICE>_JOBS` and its `_CANCEL`) go; another namespace's streams stay."""

from __future__ import annotations

import uuid

import nats
import pytest

from zquant_kit.events.nats_jetstream import NatsJetStreamBus
from zquant_kit.jobs.nats_jetstream import NatsJetStreamJobQueue
from zquant_kit.testing.nats import NATS_URL, drop_namespace, namespace_streams

pytestmark = pytest.mark.integration


def _namespace() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    return {"url": NATS_URL, "stream": f"ZQ_TEST_{suffix}", "prefix": f"zqt{suffix}"}


async def _stream_names() -> set[str]:
    nc = await nats.connect(NATS_URL)
    try:
        return {info.config.name or "" for info in await nc.jetstream().streams_info()}
    finally:
        await nc.close()


def test_a_namespace_owns_its_stream_and_those_named_after_it() -> None:
    names = ["ZQ_TEST_a", "ZQ_TEST_a_FACTOR_JOBS", "ZQ_TEST_a_FACTOR_JOBS_CANCEL", "ZQ_TEST_ab", "ZQ_TEST_b"]
    assert namespace_streams(names, "ZQ_TEST_a") == names[:3]


async def test_dropping_a_namespace_deletes_its_event_and_job_streams_only() -> None:
    mine, other = _namespace(), _namespace()
    opened = []
    for namespace in (mine, other):
        bus = NatsJetStreamBus(namespace["url"], stream=namespace["stream"], prefix=namespace["prefix"])
        queue = NatsJetStreamJobQueue(
            namespace["url"], stream=f"{namespace['stream']}_FACTOR_JOBS", prefix=f"{namespace['prefix']}jobs"
        )
        await bus.start()
        await queue.start()
        opened += [bus, queue]
    for component in opened:
        await component.close()
    expected = {mine["stream"], f"{mine['stream']}_FACTOR_JOBS", f"{mine['stream']}_FACTOR_JOBS_CANCEL"}
    try:
        assert expected <= await _stream_names()
        assert set(await drop_namespace(mine)) == expected
        left = await _stream_names()
        assert not expected & left and other["stream"] in left
    finally:
        await drop_namespace(other)
    assert not {name for name in await _stream_names() if name.startswith(other["stream"])}
