"""The dialect-switched INSERT … ON CONFLICT: PostgreSQL in production, SQLite in the lite mode and tests.

Both dialects spell ON CONFLICT the same way, but through their own `insert`; these helpers pick it from the
session or engine, so repositories never branch on the dialect themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.base import ReadOnlyColumnCollection

OnConflictInsert = postgresql.Insert | sqlite.Insert
Bind = AsyncSession | AsyncEngine | str
"""A session, an engine, or a dialect name ("postgresql", "sqlite")."""
Excluded = ReadOnlyColumnCollection[str, Any]


def dialect_name(bind: Bind) -> str:
    if isinstance(bind, str):
        return bind
    if isinstance(bind, AsyncSession):
        if bind.bind is None:
            raise RuntimeError("the session is bound to no engine")
        return bind.bind.dialect.name
    return bind.dialect.name


def insert(bind: Bind, table: Table) -> OnConflictInsert:
    """`insert(table)` of the bind's dialect, which has `on_conflict_do_nothing/_update` and `excluded`."""
    return postgresql.insert(table) if dialect_name(bind) == "postgresql" else sqlite.insert(table)


def insert_or_ignore(bind: Bind, table: Table, **values: Any) -> OnConflictInsert:
    """Inserts one row unless it clashes with an existing one (any unique key); then does nothing."""
    return insert(bind, table).values(**values).on_conflict_do_nothing()


def upsert(
    bind: Bind,
    table: Table,
    keys: Sequence[str],
    update: Sequence[str] | Mapping[str, Any],
    *,
    values: Mapping[str, Any] | None = None,
    where: Callable[[Excluded], ColumnElement[bool]] | None = None,
) -> OnConflictInsert:
    """Inserts, or on a clash on `keys` updates the existing row: `update` names columns taken from the new
    row, or maps columns to values. `where(excluded)` limits which clashing rows change (e.g. only forward).
    Without `values` the statement takes its rows at execution (`session.execute(statement, rows)`)."""
    statement = insert(bind, table)
    if values is not None:
        statement = statement.values(**values)
    excluded = statement.excluded
    set_ = dict(update) if isinstance(update, Mapping) else {name: excluded[name] for name in update}
    return statement.on_conflict_do_update(
        index_elements=[table.c[key] for key in keys],
        set_=set_,
        where=where(excluded) if where is not None else None,
    )
