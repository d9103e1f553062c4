"""The base of the SQLAlchemy sync adapters: sessions, and the dialect for upserts and `IN` lists."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


class SqlStore:
    """Holds the session factory and knows the dialect, for upserts and `IN` lists."""

    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._dialect = engine.dialect.name
