"""Bulk statements for the claim: on PostgreSQL one statement over `unnest` of per-column arrays (its text stays
the same whatever the row count, so it is parsed and planned once); on SQLite (one local process) executemany."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_kit.persistence.upsert import dialect_name, insert


def _arrays(table: Table, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> tuple[str, list[Any]]:
    select_list = ", ".join(f"unnest(:{name})" for name in columns)
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
    select_list, params = _arrays(table, rows, columns)
    statement = text(
        f"INSERT INTO {table.schema}.{table.name} ({', '.join(columns)}) SELECT {select_list} "
        f"ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING id"
    ).bindparams(*params)
    return {row.id for row in await session.execute(statement)}


async def update_column(
    session: AsyncSession, table: Table, column: str, values: Mapping[str, Any]
) -> None:
    """Sets `column` per row id."""
    if not values:
        return
    if dialect_name(session) != "postgresql":
        updating = table.update().where(table.c.id == bindparam("row_id")).values({column: bindparam("new_value")})
        await session.execute(updating, [{"row_id": key, "new_value": value} for key, value in values.items()])
        return
    statement = text(
        f"UPDATE {table.schema}.{table.name} AS t SET {column} = v.value "
        f"FROM (SELECT unnest(:ids) AS id, unnest(:values) AS value) AS v WHERE t.id = v.id"
    ).bindparams(
        bindparam("ids", list(values), type_=ARRAY(table.c.id.type)),
        bindparam("values", list(values.values()), type_=ARRAY(table.c[column].type)),
    )
    await session.execute(statement)
