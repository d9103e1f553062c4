"""Throw-away PostgreSQL databases on the machine's shared server, named by SQLAlchemy URL, empty or cloned
from a template that holds services' schemas at head (`MigratedTemplates`)."""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import uuid
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from zquant_kit.runner import upgrade_all
from zquant_kit.service import ServiceDefinition, discover
from zquant_kit.settings import Settings

PG_ADMIN_DSN = os.environ.get("ZQUANT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_url(dbname: str) -> str:
    """The SQLAlchemy (psycopg) URL of database `dbname` on the test server."""
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


def conninfo(url: str) -> str:
    """The plain libpq URL psycopg connects with, from a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


BACKENDS = ["postgres", "sqlite"]
"""The params of a fixture that runs its tests on both databases a service supports."""


def backend_database(
    request: pytest.FixtureRequest, tmp_path: Path, name: str, postgres: str = "pg_database"
) -> str:
    """In a fixture parametrised with `BACKENDS`: the URL of a throw-away database of the param's kind, the
    `postgres` fixture's (empty or migrated) or a SQLite file `<name>.db` in `tmp_path`."""
    if request.param == "postgres":
        return str(request.getfixturevalue(postgres))
    return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"


def psycopg_engine(conninfo: str) -> AsyncEngine:
    """An async SQLAlchemy engine whose connections psycopg opens from a plain libpq URL."""
    return create_async_engine(
        "postgresql+psycopg://", async_creator=lambda: psycopg.AsyncConnection.connect(conninfo)
    )


def _drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class BackgroundDrops:
    """Drops databases on a thread of its own, so a test's teardown does not wait for PostgreSQL to remove
    the files (seconds on a busy machine); `finish()` waits until every drop handed over is done."""

    def __init__(self) -> None:
        self._names: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._failures: list[BaseException] = []

    def drop(self, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="drop-databases", daemon=True)
            self._thread.start()
        self._names.put(name)

    def _work(self) -> None:
        while (name := self._names.get()) is not None:
            try:
                _drop(name)
            except Exception as exc:  # reported by finish()
                self._failures.append(exc)

    def finish(self) -> None:
        if self._thread is not None:
            self._names.put(None)
            self._thread.join()
            self._thread = None
        if self._failures:
            raise self._failures[0]


@contextmanager
def throwaway_database(
    *, create: bool = True, template: str = "", drops: BackgroundDrops | None = None
) -> Iterator[str]:
    """A fresh database's SQLAlchemy URL; dropped afterwards (FORCE ends stray sessions), through `drops`
    when given.

    With `template` it starts as a copy of that database; with `create=False` only the name is reserved:
    the code under test creates the database.
    """
    name = f"zq_test_{uuid.uuid4().hex[:12]}"
    if create:
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield pg_url(name)
    finally:
        if drops is None:
            _drop(name)
        else:
            drops.drop(name)


class MigratedTemplates:
    """Template databases where the named services' schemas are at head, each migrated on first use and all
    dropped by `drop()`. Copying one (CREATE DATABASE … TEMPLATE, well under a second) replaces migrating each
    test's database, which costs seconds (marketdata alone creates hundreds of bar partitions); a stack
    started on a copy finds its schemas current and upgrades nothing."""

    def __init__(self) -> None:
        self._names: dict[tuple[str, ...], str] = {}
        self._lock = threading.Lock()

    def name(self, services: Sequence[str] = ()) -> str:
        """The template of `services` (empty: every installed service)."""
        definitions = discover()
        key = tuple(sorted(services or definitions))
        with self._lock:
            if key not in self._names:
                name = f"zq_template_{uuid.uuid4().hex[:12]}"
                with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
                    admin.execute(f'CREATE DATABASE "{name}"')
                try:
                    _in_own_loop(_migrate([definitions[service] for service in key], pg_url(name)))
                except BaseException:
                    _drop(name)
                    raise
                self._names[key] = name
            return self._names[key]

    def drop(self) -> None:
        with self._lock:
            for name in self._names.values():
                _drop(name)
            self._names.clear()


async def _migrate(definitions: list[ServiceDefinition], url: str) -> None:
    await upgrade_all(
        definitions, Settings({f"ZQUANT_{d.name.upper()}_DATABASE_URL": url for d in definitions})
    )


def _in_own_loop(work: Coroutine[Any, Any, None]) -> None:
    """Runs a coroutine to completion on a fresh loop in a thread: the caller may be inside a running loop."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work)
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="migrate-template")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
