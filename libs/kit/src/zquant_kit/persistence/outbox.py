"""Transactional outbox: the state change and its event commit together; a relay publishes later.

The relay wakes right after a local commit (an asyncio.Event) and also polls, so rows written while
the broker was down, or by another process, still go out. `Nats-Msg-Id` = event id lets JetStream's
duplicate window drop a replay if the relay crashes between publish and marking the row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    RowMapping,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zquant_kit import telemetry
from zquant_kit.events.model import Event, EventPublisher
from zquant_kit.tasks import BackgroundLoop, raise_if_cancelled

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
        Column("attempts", Integer, nullable=False, default=0),
    )


def outbox_row(event: Event) -> dict[str, Any]:
    """The one outbox row shape. The trace context is stamped here, where the event is written,
    so one trace spans RPC → outbox → consumer."""
    headers = dict(event.headers)
    telemetry.inject_context(headers)
    return {
        "event_id": event.id,
        "event_type": event.type,
        "payload": event.payload,
        "headers": headers,
        "created_at": event.occurred_at,
        "attempts": 0,
    }


def outbox_event(row: RowMapping) -> Event:
    """The event an outbox row (`outbox_row`'s shape, as a mapping) holds, as the relay publishes it."""
    return Event(
        id=row["event_id"],
        type=row["event_type"],
        payload=row["payload"],
        headers=dict(row["headers"] or {}),
        occurred_at=row["created_at"],
    )


class OutboxRelay:
    """Publishes unpublished outbox rows in commit order and marks them published."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        table: Table,
        publisher: EventPublisher,
        *,
        poll_seconds: float = 1.0,
        batch_size: int = 100,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._table = table
        self._publisher = publisher
        self._poll = poll_seconds
        self._batch = batch_size
        self._max_backoff = max_backoff_seconds
        self._wake = asyncio.Event()
        self._background = BackgroundLoop(self.run, "outbox-relay")

    def wake(self) -> None:
        self._wake.set()

    async def publish_pending(self) -> int:
        """One pass; returns how many rows went out. Raises if the publisher fails.

        No transaction is held while publishing: an in-process consumer may write to the same SQLite file,
        and several relays (replicas) may pick the same row — JetStream's Msg-Id window drops the duplicate.
        """
        sent = 0
        while True:
            async with self._sessions() as session:
                rows = (
                    (
                        await session.execute(
                            select(self._table)
                            .where(self._table.c.published_at.is_(None))
                            .order_by(self._table.c.seq)
                            .limit(self._batch)
                        )
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                return sent
            for row in rows:
                event = outbox_event(row)
                try:
                    await self._publisher.publish(event)
                except Exception:
                    await self._mark(row["seq"], attempts=self._table.c.attempts + 1)
                    raise
                await self._mark(row["seq"], published_at=dt.datetime.now(dt.UTC))
                sent += 1

    async def _mark(self, seq: int, **values: Any) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(update(self._table).where(self._table.c.seq == seq).values(**values))

    async def run(self) -> None:
        backoff = self._poll
        while True:
            try:
                await self.publish_pending()
                backoff = self._poll
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker down: keep rows, retry with backoff
                log.warning("outbox relay: publish failed, will retry: %s", exc)
                backoff = min(max(backoff * 2, 0.2), self._max_backoff)
            raise_if_cancelled()
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel racing a wake-up.
                async with asyncio.timeout(backoff):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()
