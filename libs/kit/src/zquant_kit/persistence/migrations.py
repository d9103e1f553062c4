"""Alembic per service: own script directory, own version table in the service's schema.

Each service's `migrations/env.py` calls `run_env()`; migration scripts ask `target_schema()`
for the schema to use (None on SQLite, which has no schemas).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, Table, text

from zquant_kit.errors import FailedPrecondition
from zquant_kit.persistence.engine import create_engine, is_sqlite, normalize_url


def _config(script_location: Path, url: str, schema: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["schema"] = None if is_sqlite(url) else schema
    return config


def target_schema() -> str | None:
    return context.config.attributes.get("schema")


def create_tables(*definitions: Callable[[MetaData], Table]) -> None:
    """Inside a migration: creates tables the kit defines (`outbox_table`, `processed_messages_table`) in the
    migration's schema, with their indexes, so a service's migration does not restate the kit's columns.
    Indexes are named `ix_<table>_<column>` whatever the schema, as `op.create_index` names them."""
    metadata = MetaData(
        schema=target_schema(), naming_convention={"ix": "ix_%(table_name)s_%(column_0_name)s"}
    )
    bind = op.get_bind()
    for definition in definitions:
        definition(metadata).create(bind)


def service_bind(tables: Sequence[Table]) -> Connection:
    """The migration's connection; on SQLite, which has no schemas, with the tables' schema translated away."""
    bind = op.get_bind()
    if target_schema() is None:
        return bind.execution_options(schema_translate_map={table.schema: None for table in tables})
    return bind


def create_service_tables(tables: Sequence[Table]) -> None:
    """Inside a migration: creates tables of the service's own metadata (schema = the service's), in the order
    given, with their indexes, on PostgreSQL and SQLite alike."""
    bind = service_bind(tables)
    for table in tables:
        table.create(bind)


def drop_service_tables(tables: Sequence[Table]) -> None:
    """Undoes `create_service_tables(tables)`: drops them in reverse order."""
    bind = service_bind(tables)
    for table in reversed(tables):
        table.drop(bind)


def run_env() -> None:
    """Body of every service's env.py: migrate on the connection the caller opened."""
    connection = context.config.attributes["connection"]
    schema = context.config.attributes.get("schema")
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table_schema=schema,
        include_schemas=schema is not None,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run(script_location: Path, url: str, schema: str, action: Callable[[Config], None]) -> None:
    url = normalize_url(url)
    config = _config(script_location, url, schema)
    engine = create_engine(url, schema)
    try:
        async with engine.begin() as connection:
            if not is_sqlite(url):
                await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))

            def run(sync_connection: Connection) -> None:
                config.attributes["connection"] = sync_connection
                action(config)

            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade(script_location: Path, url: str, schema: str, revision: str = "head") -> None:
    await _run(script_location, url, schema, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(script_location: Path, url: str, schema: str, revision: str) -> None:
    await _run(script_location, url, schema, lambda cfg: command.downgrade(cfg, revision))


def revisions(script_location: Path) -> list[str]:
    """Oldest first."""
    script = ScriptDirectory(str(script_location))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def head(script_location: Path) -> str | None:
    return ScriptDirectory(str(script_location)).get_current_head()


async def current(script_location: Path, url: str, schema: str) -> str | None:
    url = normalize_url(url)
    engine = create_engine(url, schema)
    version_schema = None if is_sqlite(url) else schema
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(
                    sync, opts={"version_table_schema": version_schema}
                ).get_current_revision()
            )
    finally:
        await engine.dispose()


async def ensure_current(service: str, script_location: Path, url: str, schema: str) -> None:
    """Startup refuses an outdated schema instead of failing later on a missing column."""
    have, want = await current(script_location, url, schema), head(script_location)
    if have != want:
        raise FailedPrecondition(
            f"{service} database schema is at {have or 'nothing'}, code needs {want}: "
            f"run `zquant db upgrade {service}`"
        )
