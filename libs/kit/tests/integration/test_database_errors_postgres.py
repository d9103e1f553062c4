"""On PostgreSQL, integrity and data errors map by SQLSTATE, through SQLAlchemy and from raw psycopg alike."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from zquant_kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from zquant_kit.persistence.errors import client_error
from zquant_kit.testing import conninfo

pytestmark = pytest.mark.integration

SCHEMA = (
    "CREATE TABLE owners (id int PRIMARY KEY, name text UNIQUE, age smallint CHECK (age >= 0))",
    "CREATE TABLE pets (id int PRIMARY KEY, owner_id int NOT NULL REFERENCES owners(id))",
    "INSERT INTO owners VALUES (1, 'bob', 30)",
)


async def _error(engine, statement: str, **params) -> Exception:
    with pytest.raises(Exception) as caught:
        async with engine.begin() as connection:
            await connection.execute(text(statement), params)
    return caught.value


async def test_postgres_errors_map_to_client_errors(pg_database):
    engine = create_async_engine(pg_database)
    try:
        async with engine.begin() as connection:
            for statement in SCHEMA:
                await connection.execute(text(statement))
        duplicate = client_error(await _error(engine, "INSERT INTO owners VALUES (2, 'bob', 1)"))
        assert isinstance(duplicate, AlreadyExists) and (duplicate.resource_type, duplicate.field) == ("owners", "name")
        for statement in ("INSERT INTO pets VALUES (1, 99)", "INSERT INTO pets VALUES (1, NULL)",
                          "INSERT INTO owners VALUES (3, 'ann', -1)"):
            assert isinstance(client_error(await _error(engine, statement)), FailedPrecondition), statement
        for statement, params in (("INSERT INTO owners VALUES (4, :name, 1)", {"name": "a\x00b"}),
                                  ("INSERT INTO owners VALUES (5, 'eve', :age)", {"age": 70000})):
            mapped = client_error(await _error(engine, statement, **params))
            assert isinstance(mapped, InvalidArgument) and "INSERT" not in mapped.message, statement
    finally:
        await engine.dispose()


def test_raw_psycopg_unique_violation_maps_too(pg_database):
    with psycopg.connect(conninfo(pg_database)) as connection:
        connection.execute("CREATE TABLE t (k text PRIMARY KEY)")
        connection.execute("INSERT INTO t VALUES ('a')")
        with pytest.raises(psycopg.Error) as caught:
            connection.execute("INSERT INTO t VALUES ('a')")
    mapped = client_error(caught.value)
    assert isinstance(mapped, AlreadyExists) and (mapped.resource_type, mapped.field) == ("t", "k")
