"""Tombstones of deleted users: a service that keeps user-owned rows marks each user identity deleted, so
that user's still-valid access token cannot create rows again. The table and its two operations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, MetaData, Table, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from zquant_kit.persistence.columns import USER_ID, UTC_TIMESTAMP
from zquant_kit.persistence.upsert import insert_or_ignore


def deleted_users_table(metadata: MetaData, timestamp: TypeEngine[dt.datetime] = UTC_TIMESTAMP) -> Table:
    return Table(
        "deleted_users",
        metadata,
        Column("user_id", USER_ID, primary_key=True),
        Column("deleted_at", timestamp, nullable=False),
    )


class DeletedUserRows:
    """The rows of a `deleted_users_table`, in the caller's session (the mark commits with its effects).
    A service's adapter subclasses this and its own `DeletedUsers` port."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self._s = session
        self._table = table

    async def mark(self, user_id: str, at: dt.datetime) -> None:
        """Idempotent: a repeat (a replayed event) keeps the first time."""
        await self._s.execute(insert_or_ignore(self._s, self._table, user_id=user_id, deleted_at=at))

    async def contains(self, user_id: str) -> bool:
        found = await self._s.scalar(select(literal(True)).where(self._table.c.user_id == user_id))
        return bool(found)
