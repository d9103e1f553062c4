"""In-process event bus for the all-in-one mode: same port as NATS, no broker."""

from __future__ import annotations

import logging

from zquant_kit import telemetry
from zquant_kit.events.model import Event, EventHandler, PoisonMessage, subject_matches

log = logging.getLogger(__name__)


class InProcessEventBus:
    """Delivers synchronously to every matching consumer; a failure makes the relay retry later.

    Consumers are idempotent (processed_messages), so a retry that re-delivers to consumers
    that already succeeded is harmless. Like JetStream's max_deliver, a consumer that keeps failing
    on one event gives up on it after `max_deliver` tries, so one bad event can't block the outbox.
    """

    def __init__(self, max_deliver: int = 5) -> None:
        self._subscriptions: list[tuple[str, str, EventHandler]] = []
        self._max_deliver = max_deliver
        self._failures: dict[tuple[str, str], int] = {}

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
            key = (consumer, event.id)
            if self._failures.get(key, 0) >= self._max_deliver:
                continue
            with telemetry.consumer_span(consumer, event.type, event.id, event.headers):
                try:
                    await handler(event)
                    self._failures.pop(key, None)
                except PoisonMessage as exc:
                    log.error("consumer %s dropped poison event %s: %s", consumer, event.id, exc)
                except Exception as exc:
                    self._failures[key] = self._failures.get(key, 0) + 1
                    if self._failures[key] >= self._max_deliver:
                        log.error(
                            "consumer %s gave up on %s after %d tries: %s",
                            consumer,
                            event.id,
                            self._max_deliver,
                            exc,
                        )
                    else:
                        log.warning("consumer %s failed on %s: %s", consumer, event.id, exc)
                        failures.append(exc)
        if failures:
            raise RuntimeError(f"{len(failures)} consumer(s) failed on event {event.id}") from failures[0]
