"""Unit of work on SQLAlchemy: one transaction, the events it emits go to the outbox in that same transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Self

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zquant_kit.events.model import Event
from zquant_kit.persistence.idempotency import claim_message
from zquant_kit.persistence.outbox import outbox_row
from zquant_kit.unit_of_work import UnitOfWork


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Services subclass this to expose their repositories built on `self.session`, and set
    `processed_messages` to the table their idempotent consumers `claim` events in."""

    processed_messages: ClassVar[Table | None] = None

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._on_commit = on_commit
        self._events: list[Event] = []
        self.session: AsyncSession

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._events = []
        self._enter()
        return self

    def _enter(self) -> None:
        """Hook for subclasses to build repositories on the fresh session."""

    async def __aexit__(self, *exc_info: object) -> None:
        """Closing rolls back anything uncommitted; loaded objects stay readable (detached, not expired)."""
        self._events = []
        await self.session.close()

    def emit(self, event: Event) -> None:
        self._events.append(event)

    async def claim(self, consumer: str, event_id: str) -> bool:
        if self.processed_messages is None:
            raise TypeError(
                f"{type(self).__name__} sets no processed_messages table, so it cannot claim events"
            )
        return await claim_message(self.session, self.processed_messages, consumer, event_id)

    async def commit(self) -> None:
        published = bool(self._events)
        if self._events:
            await self.session.execute(self._outbox.insert(), [outbox_row(e) for e in self._events])
            self._events = []
        await self.session.commit()
        if published and self._on_commit is not None:
            self._on_commit()

    async def rollback(self) -> None:
        self._events = []
        await self.session.rollback()
