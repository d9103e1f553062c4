"""Integration fixtures: every test module gets its own throw-away PostgreSQL database,
so modules can run in parallel and never see each other's rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

ADMIN_CONNINFO = os.environ.get("ZQUANT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """Conninfo of a fresh database, dropped WITH (FORCE) after the module."""
    name = f"zq_test_{uuid.uuid4().hex}"
    with psycopg.connect(ADMIN_CONNINFO, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(ADMIN_CONNINFO, dbname=name)
    finally:
        with psycopg.connect(ADMIN_CONNINFO, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
