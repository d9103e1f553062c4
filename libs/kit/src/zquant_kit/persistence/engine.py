"""Async engines for PostgreSQL (psycopg 3) and SQLite (aiosqlite), one schema per service."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine, AsyncSession

from zquant_kit.files import private_sqlite_file


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and pin the psycopg 3 async driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername != "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN IMMEDIATE (below) instead of pysqlite's deferred BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection) -> None:
    """Take the write lock up front: a deferred transaction that reads, then writes after another
    connection committed, fails at once with SQLITE_BUSY_SNAPSHOT instead of waiting for busy_timeout."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, schema: str) -> AsyncEngine:
    """SQLite has no schemas: tables declared in `schema` are translated to the main database.

    SQL parameters never reach logs or exception text (`hide_parameters`): they carry password hashes and keys."""
    url = normalize_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            private_sqlite_file(Path(database))  # 0600 in a 0700 directory; -wal/-shm inherit the mode
        engine = create_async_engine(
            url, hide_parameters=True, execution_options={"schema_translate_map": {schema: None}}
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    return create_async_engine(url, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
