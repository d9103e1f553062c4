"""The event envelope and the ports every service publishes and consumes through."""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from google.protobuf.message import Message

M = TypeVar("M", bound=Message)


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    payload: bytes
    occurred_at: dt.datetime
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, event_type: str, message: Message) -> Event:
        """A new envelope; the trace context is added where it is written (`persistence.outbox.outbox_row`)."""
        return cls(
            id=str(uuid.uuid4()),
            type=event_type,
            payload=message.SerializeToString(deterministic=True),
            occurred_at=dt.datetime.now(dt.UTC),
        )

    def decode(self, message_type: builtins.type[M]) -> M:
        message = message_type()
        try:
            message.ParseFromString(self.payload)
        except Exception as exc:
            raise PoisonMessage(f"cannot decode {self.type} as {message_type.__name__}") from exc
        return message


class PoisonMessage(Exception):
    """A message no retry can fix: the consumer terminates it instead of redelivering."""


EventHandler = Callable[[Event], Awaitable[None]]


class EventPublisher(Protocol):
    async def publish(self, event: Event) -> None: ...


class EventSubscriber(Protocol):
    async def subscribe(self, consumer: str, pattern: str, handler: EventHandler) -> None:
        """`pattern` is an event type with NATS wildcards (`*` one token, `>` the rest)."""
        ...


class EventBus(EventPublisher, EventSubscriber, Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...


def subject_matches(pattern: str, subject: str) -> bool:
    p_tokens, s_tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(p_tokens):
        if token == ">":
            return len(s_tokens) > index
        if index >= len(s_tokens) or (token != "*" and token != s_tokens[index]):
            return False
    return len(p_tokens) == len(s_tokens)
