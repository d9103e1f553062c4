"""Alembic stairway: every revision goes up, down and up again, on PostgreSQL and SQLite, for every service."""

import pytest

from zquant_kit.errors import FailedPrecondition
from zquant_kit.persistence import migrations
from zquant_kit.service import discover

pytestmark = pytest.mark.integration

SERVICES = list(discover().values())


async def _stairway(definition, url):
    revisions = migrations.revisions(definition.migrations)
    assert revisions, f"{definition.name} has no migrations"
    previous = "base"
    for revision in revisions:
        await migrations.upgrade(definition.migrations, url, definition.schema, revision)
        assert await migrations.current(definition.migrations, url, definition.schema) == revision
        await migrations.downgrade(definition.migrations, url, definition.schema, previous)
        await migrations.upgrade(definition.migrations, url, definition.schema, revision)
        previous = revision
    await migrations.downgrade(definition.migrations, url, definition.schema, "base")
    assert await migrations.current(definition.migrations, url, definition.schema) is None


@pytest.mark.parametrize("definition", SERVICES, ids=[d.name for d in SERVICES])
async def test_stairway_postgres(definition, pg_database):
    await _stairway(definition, pg_database)


@pytest.mark.parametrize("definition", SERVICES, ids=[d.name for d in SERVICES])
async def test_stairway_sqlite(definition, tmp_path):
    await _stairway(definition, f"sqlite+aiosqlite:///{tmp_path / definition.name}.db")


@pytest.mark.parametrize("definition", SERVICES, ids=[d.name for d in SERVICES])
async def test_startup_refuses_an_outdated_schema(definition, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / definition.name}.db"
    with pytest.raises(FailedPrecondition, match=f"zquant db upgrade {definition.name}"):
        await migrations.ensure_current(definition.name, definition.migrations, url, definition.schema)
    await migrations.upgrade(definition.migrations, url, definition.schema)
    await migrations.ensure_current(definition.name, definition.migrations, url, definition.schema)
