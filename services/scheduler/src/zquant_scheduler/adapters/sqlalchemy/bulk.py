"""Bulk statements for the claim and the run writer: on PostgreSQL one statement over `unnest` of per-column
arrays (its text stays the same whatever the row count, so it is parsed and planned once); on SQLite (one local
process) executemany."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from zquant_kit.persistence.upsert import dialect_name, insert


def _unnest(table: Table, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> tuple[str, list[BindParameter[Any]]]:
    """`unnest(:a) AS a, unnest(:b) AS b, …` and its array parameters, one per column."""
    select_list = ", ".join(f"unnest(:{name}) AS {name}" for name in columns)
    params = [bindparam(name, [row[name] for row in rows], type_=ARRAY(table.c[name].type)) for name in columns]
    return select_list, params


async def insert_new(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], unique: Sequence[str]
) -> set[str]:
    """Inserts the rows whose `unique` key is free; returns the `id` of each row inserted."""
    if not rows:
        return set()
    if dialect_name(session) != "postgresql":
        inserting = insert(session, table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)
        return {row.id for row in await session.execute(inserting, list(rows))}
    columns = list(rows[0])
    select_list, params = _unnest(table, rows, columns)
    statement = text(
        f"INSERT INTO {table.schema}.{table.name} ({', '.join(columns)}) SELECT {select_list} "
        f"ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING id"
    ).bindparams(*params)
    return {row.id for row in await session.execute(statement)}


async def insert_all(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    if dialect_name(session) != "postgresql":
        await session.execute(table.insert(), list(rows))
        return
    columns = list(rows[0])
    select_list, params = _unnest(table, rows, columns)
    statement = text(f"INSERT INTO {table.schema}.{table.name} ({', '.join(columns)}) SELECT {select_list}")
    await session.execute(statement.bindparams(*params))


async def update_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Sets every column of each row but `id`, matched on `id`."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != "id"]
    if dialect_name(session) != "postgresql":
        updating = table.update().where(table.c.id == bindparam("row_id")).values(
            {name: bindparam(f"new_{name}") for name in columns}
        )
        await session.execute(
            updating, [{"row_id": row["id"], **{f"new_{name}": row[name] for name in columns}} for row in rows]
        )
        return
    select_list, params = _unnest(table, rows, ["id", *columns])
    assignments = ", ".join(f"{name} = v.{name}" for name in columns)
    statement = text(
        f"UPDATE {table.schema}.{table.name} AS t SET {assignments} FROM (SELECT {select_list}) AS v WHERE t.id = v.id"
    )
    await session.execute(statement.bindparams(*params))


async def update_column(session: AsyncSession, table: Table, column: str, values: Mapping[str, Any]) -> None:
    """Sets `column` per row id."""
    await update_rows(session, table, [{"id": key, column: value} for key, value in values.items()])
