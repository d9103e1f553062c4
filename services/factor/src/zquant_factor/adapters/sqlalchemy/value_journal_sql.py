"""The PostgreSQL statements of the append journal (`value_journal`) and the column heads, on the psycopg
connection under the store's SQLAlchemy one (in its transaction, under its column locks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import psycopg

from zquant_factor.adapters.sqlalchemy.value_blocks import PanelWrite, SeriesPiece
from zquant_factor.adapters.sqlalchemy.value_journal import JournalEntry, entry_codes, journal_rows
from zquant_factor.adapters.sqlalchemy.value_tables import HEADS, JOURNAL, value_journal

_JOURNAL_COLUMNS = ", ".join(column.name for column in value_journal.columns)
_JOURNAL_TYPES = ("varchar", "varchar", "date", "date", "bytea", "bytea", "bytea")


async def heads(raw: psycopg.AsyncConnection, factor_id: str, columns: Sequence[str]) -> dict[str, dt.date]:
    """The newest stored date of each of these columns that has any value."""
    cursor = await raw.execute(
        f"SELECT column_name, last_date FROM {HEADS} WHERE factor_id = %s AND column_name = ANY(%s::text[])",
        (factor_id, list(columns)),
    )
    return dict(await cursor.fetchall())


async def advance_heads(
    raw: psycopg.AsyncConnection, factor_id: str, columns: Sequence[str], last: dt.date
) -> None:
    """The columns' newest date moved to `last` if later (a write of older dates never moves it back)."""
    await raw.execute(
        f"INSERT INTO {HEADS} AS head (factor_id, column_name, last_date) "
        "SELECT %s, name, %s FROM unnest(%s::text[]) AS name ORDER BY name "
        "ON CONFLICT (factor_id, column_name) DO UPDATE SET last_date = GREATEST(head.last_date, EXCLUDED.last_date)",
        (factor_id, last, sorted(columns)),
    )


async def append(raw: psycopg.AsyncConnection, factor_id: str, write: PanelWrite) -> dict[str, int]:
    """One entry per column by binary COPY; how many entries each column's journal now holds."""
    async with raw.cursor().copy(f"COPY {JOURNAL} ({_JOURNAL_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(list(_JOURNAL_TYPES))
        for row in journal_rows(factor_id, write):
            await copy.write_row(row)
    cursor = await raw.execute(
        f"SELECT column_name, count(*) FROM {JOURNAL} WHERE factor_id = %s AND column_name = ANY(%s::text[]) "
        "GROUP BY column_name",
        (factor_id, write.columns),
    )
    return dict(await cursor.fetchall())


async def taken(raw: psycopg.AsyncConnection, factor_id: str, columns: Sequence[str]) -> list[JournalEntry]:
    """The columns' entries, removed, in date order."""
    cursor = await raw.cursor(binary=True).execute(
        f"DELETE FROM {JOURNAL} WHERE factor_id = %s AND column_name = ANY(%s::text[]) "
        "RETURNING column_name, first_date, ts_codes, trade_days, packed_values",
        (factor_id, list(columns)),
    )
    rows = sorted(await cursor.fetchall(), key=lambda row: (row[0], row[1]))
    return [JournalEntry.of(column, codes, days, values) for column, _, codes, days, values in rows]


async def entries(
    raw: psycopg.AsyncConnection, factor_id: str, column: str, first: dt.date, last: dt.date
) -> list[JournalEntry]:
    """The column's entries holding dates in [first, last], in date order."""
    cursor = await raw.cursor(binary=True).execute(
        f"SELECT ts_codes, trade_days, packed_values FROM {JOURNAL} WHERE factor_id = %s AND column_name = %s "
        "AND last_date >= %s AND first_date <= %s ORDER BY first_date",
        (factor_id, column, first, last),
    )
    return [JournalEntry.of(column, codes, days, values) for codes, days, values in await cursor.fetchall()]


async def codes(raw: psycopg.AsyncConnection, factor_id: str, column: str) -> set[str]:
    """The codes the column's entries hold, without fetching their values."""
    cursor = await raw.cursor(binary=True).execute(
        f"SELECT DISTINCT ts_codes FROM {JOURNAL} WHERE factor_id = %s AND column_name = %s",
        (factor_id, column),
    )
    return {code for (ts_codes,) in await cursor.fetchall() for code in entry_codes(ts_codes)}


def pieces(found: Sequence[JournalEntry], codes: Sequence[str]) -> list[SeriesPiece]:
    return [piece for entry in found for piece in entry.pieces(codes)]
