"""Test stacks whose event bus is the shared NATS JetStream, for tests of events crossing a real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from zquant_kit.testing.nats import nats_settings
from zquant_kit.testing.stack_settings import stack_settings
from zquant_kit.testing.stacks import StackClient, running_stack, services


@asynccontextmanager
async def nats_stack(
    database: str, namespace: dict[str, str], *names: str, **extra: str
) -> AsyncIterator[StackClient]:
    """`names` on `database` (`stack_settings`, with `extra`), their bus the one the settings name: NATS JetStream
    in the `nats_namespace` fixture's `namespace`, which it checks the stack really built."""
    settings = stack_settings(database, *names, **nats_settings(namespace), **extra)
    async with running_stack(services(*names), settings) as client:
        assert type(client.stack.bus).__name__ == "NatsJetStreamBus"
        yield client
