"""Services started in the test process on port 0, and the client channels tests talk to them through; or one
service's app built without serving, for tests that drive its use cases and adapters directly."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc

from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.events.model import EventBus
from zquant_kit.runner import RunningStack, start_stack, upgrade_all
from zquant_kit.service import ServiceApp, ServiceDefinition, discover
from zquant_kit.settings import Settings


def services(*names: str) -> list[ServiceDefinition]:
    """The definitions of the named services (all discovered ones when none are named), in that order."""
    known = discover()
    return [known[name] for name in names] if names else list(known.values())


@dataclass
class StackClient:
    """A running stack plus one lazily opened channel per service; `running_stack` closes them."""

    stack: RunningStack
    channel_options: Sequence[tuple[str, int]] = ()
    _channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)

    def channel(self, name: str) -> grpc.aio.Channel:
        if name not in self._channels:
            self._channels[name] = grpc.aio.insecure_channel(
                self.stack.address(name), options=self.channel_options
            )
        return self._channels[name]

    def app(self, name: str) -> ServiceApp:
        return self.stack.apps[name]

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(None)
        self._channels.clear()


@asynccontextmanager
async def running_stack(
    definitions: list[ServiceDefinition],
    settings: Settings,
    *,
    bus: EventBus | None = None,
    channel_options: Sequence[tuple[str, int]] = (),
) -> AsyncIterator[StackClient]:
    """Migrates, starts `definitions` on ephemeral ports, and stops them (no grace) afterwards.

    Without `bus` the stack builds the one its settings name; `channel_options` apply to every client channel.
    """
    await upgrade_all(definitions, settings)
    stack = await start_stack(definitions, settings, bus=bus, ephemeral_ports=True)
    client = StackClient(stack, channel_options)
    try:
        yield client
    finally:
        await client.close()
        await stack.stop(0)
        await _finish_abandoned_connections()


@asynccontextmanager
async def built_app(definition: ServiceDefinition, database_url: str) -> AsyncIterator[ServiceApp]:
    """`definition`'s app on `database_url`, migrated to head and built on the in-process bus, not serving;
    stopped afterwards."""
    settings = Settings(
        {f"ZQUANT_{definition.name.upper()}_DATABASE_URL": database_url, "ZQUANT_EVENT_BUS": "inprocess"}
    )
    await upgrade_all([definition], settings)
    app = await definition.bootstrap(settings, InProcessEventBus())
    try:
        yield app
    finally:
        await app.stop()


async def _finish_abandoned_connections() -> None:
    """A connection a cancelled call left checked out is closed by the garbage collector, through a task
    on this loop (SQLAlchemy's aiosqlite terminate). Collected here, while the loop and the driver's
    threads still run, those tasks finish; collected at loop close, they can wait there forever."""
    gc.collect()
    for _ in range(5):
        await asyncio.sleep(0.01)
