"""Events as services stored them: a row of an outbox turned back into the event (to replay it, as JetStream
would after a lost ack), and the event ids an idempotent consumer has recorded as processed."""

from __future__ import annotations

from sqlalchemy import MetaData, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from zquant_kit.events.model import Event
from zquant_kit.persistence.outbox import outbox_event, outbox_table


async def stored_event(connection: AsyncConnection | AsyncSession, schema: str, event_id: str) -> Event:
    """The event `event_id` exactly as the service owning `schema` wrote it to its outbox (same id as on the wire)."""
    outbox = outbox_table(MetaData(schema=schema))
    row = (await connection.execute(select(outbox).where(outbox.c.event_id == event_id))).mappings().one()
    return outbox_event(row)


async def processed_events(
    connection: AsyncConnection | AsyncSession, table: Table, consumer: str
) -> list[str]:
    """The ids of the events `consumer` has claimed in a service's `processed_messages` table."""
    query = select(table.c.event_id).where(table.c.consumer == consumer)
    return list((await connection.execute(query)).scalars())
