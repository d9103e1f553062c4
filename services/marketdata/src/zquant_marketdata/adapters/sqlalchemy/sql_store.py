"""The base of the SQLAlchemy sync adapters: sessions, and the dialect-switched upsert."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


class SqlStore:
    """Holds the session factory and knows the dialect, for upserts and `IN` lists."""

    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._dialect = engine.dialect.name

    def _insert(self, table: Table):
        return (postgresql.insert if self._dialect == "postgresql" else sqlite.insert)(table)
