"""The psycopg connection under a SQLAlchemy engine, or one the caller owns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine

PgSource = AsyncEngine | psycopg.AsyncConnection
"""A SQLAlchemy `AsyncEngine` (psycopg driver; each use checks out a pooled connection) or a
`psycopg.AsyncConnection` the caller owns (a write on it joins an open transaction as a savepoint)."""


@asynccontextmanager
async def pg_connection(source: PgSource) -> AsyncIterator[psycopg.AsyncConnection]:
    if isinstance(source, psycopg.AsyncConnection):
        yield source
        return
    async with source.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if not isinstance(driver, psycopg.AsyncConnection):
            raise TypeError(f"a block store needs the psycopg driver, not {type(driver).__name__}")
        yield driver
