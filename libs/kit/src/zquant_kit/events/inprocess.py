"""In-process event bus for the all-in-one mode: same port as NATS, no broker."""

from __future__ import annotations

import logging

from zquant_kit import telemetry
from zquant_kit.events.model import Event, EventHandler, PoisonMessage, subject_matches

log = logging.getLogger(__name__)


class InProcessEventBus:
    """Delivers synchronously to every matching consumer; a failure makes the relay retry later.

    Consumers are idempotent (processed_messages), so a retry that re-delivers to consumers
    that already succeeded is harmless.
    """

    def __init__(self) -> None:
        self._subscriptions: list[tuple[str, str, EventHandler]] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._subscriptions.clear()

    async def subscribe(self, consumer: str, pattern: str, handler: EventHandler) -> None:
        self._subscriptions.append((consumer, pattern, handler))

    async def publish(self, event: Event) -> None:
        failures = []
        for consumer, pattern, handler in list(self._subscriptions):
            if not subject_matches(pattern, event.type):
                continue
            with telemetry.consumer_span(consumer, event):
                try:
                    await handler(event)
                except PoisonMessage as exc:
                    log.error("consumer %s dropped poison event %s: %s", consumer, event.id, exc)
                except Exception as exc:
                    log.warning("consumer %s failed on %s: %s", consumer, event.id, exc)
                    failures.append(exc)
        if failures:
            raise RuntimeError(f"{len(failures)} consumer(s) failed on event {event.id}") from failures[0]
