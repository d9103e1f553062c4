"""NATS JetStream adapter: durable pull consumers, explicit ack, bounded redelivery, term for poison."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from zquant_kit import jetstream, telemetry
from zquant_kit.events.model import Event, EventHandler, PoisonMessage

log = logging.getLogger(__name__)

_RESERVED = {"Nats-Msg-Id", "Zq-Event-Type", "Zq-Occurred-At"}


class NatsJetStreamBus:
    """Subjects are `<prefix>.<event type>`; one stream holds `<prefix>.>`."""

    def __init__(
        self,
        url: str,
        *,
        stream: str = "ZQUANT_EVENTS",
        prefix: str = "zq",
        max_deliver: int = 5,
        ack_wait_seconds: float = 30.0,
        duplicate_window_seconds: float = 120.0,
        publish_timeout_seconds: float = 2.0,
    ) -> None:
        self._url = url
        self._stream = stream
        self._prefix = prefix
        self._max_deliver = max_deliver
        self._ack_wait = ack_wait_seconds
        self._duplicate_window = duplicate_window_seconds
        self._publish_timeout = publish_timeout_seconds
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._stream_ready = False
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    async def start(self) -> None:
        """Connects if the broker is up; if not, publishing retries (the outbox keeps the rows)."""
        try:
            await self._ensure_connected()
        except Exception as exc:
            log.warning("NATS at %s not reachable yet: %s", self._url, exc)

    async def _ensure_connected(self) -> JetStreamContext:
        async with self._lock:
            if self._nc is None or self._nc.is_closed:
                self._nc = await jetstream.connect(self._url)
                self._js = self._nc.jetstream()
                self._stream_ready = False
            js = self._js
            assert js is not None  # set with the connection above
            if not self._stream_ready:
                config = api.StreamConfig(
                    name=self._stream,
                    subjects=[f"{self._prefix}.>"],
                    duplicate_window=self._duplicate_window,
                    storage=api.StorageType.FILE,
                )
                await jetstream.ensure_stream(js, config)
                self._stream_ready = True
            return js

    def subject(self, event_type: str) -> str:
        return f"{self._prefix}.{event_type}"

    async def publish(self, event: Event) -> None:
        js = await self._ensure_connected()
        headers = {k: v for k, v in event.headers.items() if k not in _RESERVED}
        headers.update(
            {
                "Nats-Msg-Id": event.id,
                "Zq-Event-Type": event.type,
                "Zq-Occurred-At": event.occurred_at.isoformat(),
            }
        )
        await js.publish(
            self.subject(event.type), event.payload, headers=headers, timeout=self._publish_timeout
        )

    async def subscribe(self, consumer: str, pattern: str, handler: EventHandler) -> None:
        self._tasks.append(
            asyncio.create_task(self._consume(consumer, pattern, handler), name=f"nats:{consumer}")
        )

    async def _consume(self, consumer: str, pattern: str, handler: EventHandler) -> None:
        subscription = None
        while not self._closing:
            try:
                if subscription is None:
                    js = await self._ensure_connected()
                    subscription = await js.pull_subscribe(
                        self.subject(pattern),
                        durable=consumer,
                        stream=self._stream,
                        config=api.ConsumerConfig(
                            ack_policy=api.AckPolicy.EXPLICIT,
                            max_deliver=self._max_deliver,
                            ack_wait=self._ack_wait,
                            deliver_policy=api.DeliverPolicy.ALL,
                        ),
                    )
                try:
                    messages = await subscription.fetch(batch=20, timeout=1.0)
                except nats.errors.TimeoutError:
                    continue
                for message in messages:
                    await self._dispatch(consumer, message, handler)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s: %r; retrying", consumer, exc)
                subscription = None
                await asyncio.sleep(0.5)

    async def _dispatch(self, consumer: str, message: Msg, handler: EventHandler) -> None:
        headers = dict(message.headers or {})
        occurred = headers.get("Zq-Occurred-At")
        event = Event(
            id=headers.get("Nats-Msg-Id", ""),
            type=headers.get("Zq-Event-Type", message.subject.removeprefix(f"{self._prefix}.")),
            payload=message.data,
            occurred_at=dt.datetime.fromisoformat(occurred) if occurred else dt.datetime.now(dt.UTC),
            headers={k: v for k, v in headers.items() if k not in _RESERVED},
        )
        with telemetry.consumer_span(consumer, event.type, event.id, event.headers):
            try:
                if not event.id:
                    raise PoisonMessage("message has no Nats-Msg-Id")
                await handler(event)
            except PoisonMessage as exc:
                log.error("consumer %s: terminating poison message: %s", consumer, exc)
                await message.term()
                return
            except Exception as exc:
                delivered = message.metadata.num_delivered
                log.warning("consumer %s: handler failed (delivery %s): %s", consumer, delivered, exc)
                await message.nak(delay=min(0.5 * 2**delivered, 10))
                return
        await message.ack()

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        if self._nc is not None and not self._nc.is_closed:
            # Publishes are acked synchronously and consumers are cancelled above: nothing left to drain.
            await self._nc.close()
        self._nc = None
