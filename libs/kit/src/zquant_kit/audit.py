"""Audit trail: the kit's interceptor records every mutating RPC as the shared zquant.common.v1 event; identity persists it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zquant.common.v1 import audit_pb2
from zquant_kit.events.model import Event
from zquant_kit.persistence.outbox import outbox_row
from zquant_kit.timestamps import timestamp

READ_ONLY_PREFIXES = ("Get", "List", "Search", "Validate", "Stream", "Watch", "Authenticate")


def is_mutating(method: str) -> bool:
    """By AIP naming: Get/List/... read; everything else (Create, Update, Delete, Login, ...) changes state."""
    return not method.rsplit("/", 1)[-1].startswith(READ_ONLY_PREFIXES)


def audit_event_type(service: str) -> str:
    return f"{service}.audit.recorded.v1"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    actor_user_id: str
    service: str
    method: str
    target: str
    result_code: str
    client_address: str
    time: dt.datetime


class AuditSink(Protocol):
    async def record(self, entry: AuditRecord) -> None: ...


def to_event(entry: AuditRecord) -> Event:
    message = audit_pb2.AuditRecordedEvent(
        entry_id=str(uuid.uuid4()),
        actor_user_id=entry.actor_user_id,
        service=entry.service,
        method=entry.method,
        target=entry.target,
        result_code=entry.result_code,
        client_address=entry.client_address,
        time=timestamp(entry.time),
    )
    return Event.create(audit_event_type(entry.service), message)


class OutboxAuditSink:
    """Writes the audit event to the service's own outbox, so it survives a broker outage."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], outbox: Table, on_commit: Callable[[], None]
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._on_commit = on_commit

    async def record(self, entry: AuditRecord) -> None:
        event = to_event(entry)
        async with self._sessions() as session, session.begin():
            await session.execute(self._outbox.insert().values(**outbox_row(event)))
        self._on_commit()
