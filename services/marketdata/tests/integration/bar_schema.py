"""marketdata's bar and block tables created anew on PostgreSQL, for the bar-store and query tests."""

import psycopg

from zquant_marketdata.adapters.sqlalchemy.bar_tables import (
    SCHEMA,
    postgres_blocks_create_ddl,
    postgres_create_ddl,
)


def fresh_bar_tables(postgres_database: str) -> None:
    """Drops marketdata's schema in `postgres_database` (a libpq URL) and creates the bar and block tables."""
    with psycopg.connect(postgres_database, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        for statement in [*postgres_create_ddl(), *postgres_blocks_create_ddl()]:
            connection.execute(statement)
