"""`migrated_pg_database`: each test's copy of the session template has the services' schemas at head and is
its own database (a write to one copy is not in the next)."""

from __future__ import annotations

import psycopg
import pytest

from zquant_kit.persistence import migrations
from zquant_kit.service import discover
from zquant_kit.testing import conninfo

pytestmark = pytest.mark.integration


@pytest.fixture
def migrated_services() -> tuple[str, ...]:
    return ("identity",)


@pytest.mark.parametrize("run", ["first", "second"])
async def test_a_copy_is_at_head_and_its_own(migrated_pg_database, run) -> None:
    identity = discover()["identity"]
    head = migrations.head(identity.migrations)
    assert await migrations.current(identity.migrations, migrated_pg_database, identity.schema) == head
    async with await psycopg.AsyncConnection.connect(conninfo(migrated_pg_database), autocommit=True) as db:
        found = await db.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'zq_marker'")
        assert (await found.fetchone())[0] == 0, "a copy starts as the template, without another test's writes"
        await db.execute("CREATE TABLE public.zq_marker (run text)")
