"""Identity's shutdown stops its outbox relay, even when an event commit wakes the relay at that moment."""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest

from zquant_kit.persistence.outbox import OutboxRelay

pytestmark = pytest.mark.unit


async def test_relay_stops_when_woken_in_the_same_moment_it_is_cancelled():
    relay = OutboxRelay(sessions=None, table=None, publisher=None, poll_seconds=0.2)
    relay.publish_pending = mock.AsyncMock(
        return_value=0
    )  # nothing to publish: the relay waits for a wake-up
    relay.start()
    await asyncio.sleep(0.01)

    relay.wake()  # an outbox row committed just as shutdown begins
    stopping = asyncio.ensure_future(relay.stop())
    done, _ = await asyncio.wait({stopping}, timeout=0.5)
    if not done:  # end the stuck relay so it does not outlive the test
        relay._background._task.cancel()
        await stopping
    assert done, "OutboxRelay.stop() did not return"
