"""Async engines for PostgreSQL (psycopg 3) and SQLite (aiosqlite), one schema per service.

On SQLite (WAL) only writers take the write lock: a transaction begins `BEGIN IMMEDIATE` unless
it is a read, which begins deferred and so never waits for, nor blocks, a writer. A transaction
is a read when its connection comes from `reader(engine)` or when it begins inside
`read_only_scope()` (the kit's gRPC server enters it for RPCs declared
`idempotency_level = NO_SIDE_EFFECTS`). A read that tries to write fails at once, loudly,
instead of racing writers into SQLITE_BUSY_SNAPSHOT.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from zquant_kit import context
from zquant_kit.files import private_sqlite_file

READ_ONLY_OPTION = "zquant_read_only"
"""Execution option marking a connection's transactions as reads (see `reader`)."""
_READ_ONLY_INFO = "zquant_read_only"
_READ_STATEMENTS = ("SELECT", "WITH", "PRAGMA", "EXPLAIN", "VALUES")
_read_only_scope: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "zquant_read_only_scope", default=False
)


class WriteInReadOnlyTransaction(RuntimeError):
    """A statement other than a read ran in a transaction begun as a read: a programming error."""


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


def reader(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool) whose transactions are reads: on SQLite they begin deferred."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


@contextlib.contextmanager
def read_only_scope() -> Iterator[None]:
    """Every transaction begun inside (this task and the tasks it starts) is a read."""
    with context.bound(_read_only_scope, True):
        yield


def in_read_only_scope() -> bool:
    return _read_only_scope.get()


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN / BEGIN IMMEDIATE (below) instead of pysqlite's own BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin(connection: Connection) -> None:
    """A read begins deferred: in WAL mode it takes no lock and sees one snapshot. Anything else
    takes the write lock up front (waiting behind busy_timeout): a deferred transaction that
    reads, then writes after another connection committed, would fail at once with
    SQLITE_BUSY_SNAPSHOT instead of waiting."""
    read_only = bool(connection.get_execution_options().get(READ_ONLY_OPTION)) or _read_only_scope.get()
    connection.info[_READ_ONLY_INFO] = read_only
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _refuse_writes_in_reads(
    connection: Connection,
    _cursor: object,
    statement: str,
    _parameters: object,
    _context: object,
    _executemany: bool,
) -> None:
    if (
        connection.info.get(_READ_ONLY_INFO)
        and connection.in_transaction()
        and not statement.lstrip().upper().startswith(_READ_STATEMENTS)
    ):
        raise WriteInReadOnlyTransaction(f"a write in a read-only transaction: {statement[:60]!r}")


def _end(connection: Connection) -> None:
    connection.info[_READ_ONLY_INFO] = False


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
        event.listen(engine.sync_engine, "begin", _begin)
        event.listen(engine.sync_engine, "before_cursor_execute", _refuse_writes_in_reads)
        event.listen(engine.sync_engine, "commit", _end)
        event.listen(engine.sync_engine, "rollback", _end)
        return engine
    return create_async_engine(url, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
