"""What the kit's two NATS JetStream adapters (the event bus, the job queue) share: how they connect, and how
they create a stream they use when it is missing."""

from __future__ import annotations

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError


async def connect(url: str) -> Client:
    """The first connect gives up after 2 s; once connected, the client reconnects forever, every half second."""
    return await nats.connect(
        url, connect_timeout=2, allow_reconnect=True, max_reconnect_attempts=-1, reconnect_time_wait=0.5
    )


async def ensure_stream(js: JetStreamContext, config: api.StreamConfig) -> None:
    """Creates the stream unless it exists; an existing one is used as it is."""
    try:
        await js.stream_info(str(config.name))
    except NotFoundError:
        await js.add_stream(config)
