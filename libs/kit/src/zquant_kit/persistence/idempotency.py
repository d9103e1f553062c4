"""Idempotent consumers: a `processed_messages` row commits in the same transaction as the effect."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, MetaData, PrimaryKeyConstraint, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_kit.persistence.upsert import insert_or_ignore


def processed_messages_table(metadata: MetaData) -> Table:
    return Table(
        "processed_messages",
        metadata,
        Column("consumer", String(200), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("consumer", "event_id"),
    )


async def claim_message(session: AsyncSession, table: Table, consumer: str, event_id: str) -> bool:
    """True the first time (consumer, event_id) is seen; False on a replay. Commits with the effect."""
    statement = insert_or_ignore(
        session, table, consumer=consumer, event_id=event_id, processed_at=dt.datetime.now(dt.UTC)
    ).returning(table.c.event_id)  # rowcount is not reliable through an ORM session
    return (await session.execute(statement)).first() is not None
