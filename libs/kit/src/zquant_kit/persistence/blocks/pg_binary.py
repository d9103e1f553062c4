"""PostgreSQL's binary formats as the block stores read and write them: the COPY header, days
since its epoch, identifier lists, and columns packed server-side into big-endian byte strings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from psycopg import sql
from sqlalchemy import Table

_PG_EPOCH = dt.date(2000, 1, 1)
UNIX_DAYS_AT_PG_EPOCH = (_PG_EPOCH - dt.date(1970, 1, 1)).days
"""PostgreSQL's binary `date` counts days from 2000-01-01, numpy's from 1970-01-01."""
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
"""Opens every binary COPY stream, followed by 4 bytes of flags and a 4-byte extension length."""


def pg_day(day: dt.date) -> int:
    """A date as PostgreSQL's binary `date`: days since 2000-01-01."""
    return (day - _PG_EPOCH).days


def quoted(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


def packed_aggregates(table: Table, columns: Sequence[str]) -> sql.Composed:
    """Per group: its trade dates (`date_send`), then each column (`float8send`, NULL as NaN),
    each packed into one `bytea` in the same row order."""
    return sql.SQL(", ").join(
        [sql.SQL("string_agg(date_send(trade_date), '')")]
        + [
            sql.SQL(
                "string_agg(float8send(coalesce({}, 'NaN')), '')"
                if table.c[name].nullable
                else "string_agg(float8send({}), '')"
            ).format(sql.Identifier(name))
            for name in columns
        ]
    )
