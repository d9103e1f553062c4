"""Throw-away PostgreSQL databases on the machine's shared server, named by SQLAlchemy URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

PG_ADMIN_DSN = os.environ.get("ZQUANT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_url(dbname: str) -> str:
    """The SQLAlchemy (psycopg) URL of database `dbname` on the test server."""
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


def conninfo(url: str) -> str:
    """The plain libpq URL psycopg connects with, from a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def psycopg_engine(conninfo: str) -> AsyncEngine:
    """An async SQLAlchemy engine whose connections psycopg opens from a plain libpq URL."""
    return create_async_engine("postgresql+psycopg://", async_creator=lambda: psycopg.AsyncConnection.connect(conninfo))


@contextmanager
def throwaway_database(*, create: bool = True) -> Iterator[str]:
    """A fresh database's SQLAlchemy URL; dropped afterwards (FORCE ends stray sessions).

    With `create=False` only the name is reserved: the code under test creates the database.
    """
    name = f"zq_test_{uuid.uuid4().hex[:12]}"
    if create:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
