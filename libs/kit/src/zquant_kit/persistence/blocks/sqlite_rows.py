"""A `BlockLayout`'s row tables on SQLite (aiosqlite) for the all-in-one mode: correct, not fast,
and without blocks (reads take the rows directly).

Rows are staged in a temp table so the counts come from set comparisons against the stored rows,
then one `INSERT ... ON CONFLICT DO UPDATE ... WHERE` rewrites only rows that changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from zquant_kit.persistence.blocks.batch import KeyedBatch, empty_frame, finish_frame, prepare_batch
from zquant_kit.persistence.blocks.counts import NOTHING_WRITTEN, WriteCounts
from zquant_kit.persistence.blocks.layout import BlockLayout
from zquant_kit.persistence.params import in_values

_STAGE_TABLE = "bar_stage"


class SqliteRowStore:
    def __init__(self, engine: AsyncEngine, layout: BlockLayout) -> None:
        self._engine = engine.execution_options(schema_translate_map={layout.schema: None})
        self._layout = layout

    async def write(self, dataset: str, frame: pd.DataFrame) -> WriteCounts:
        batch = prepare_batch(self._layout.table(dataset), frame)
        if batch.size == 0:
            return NOTHING_WRITTEN
        table = batch.table
        names = batch.columns
        columns = ", ".join(f'"{name}"' for name in names)
        key_match = "stored.ts_code = staged.ts_code AND stored.trade_date = staged.trade_date"
        differs = " OR ".join(f'stored."{name}" IS NOT staged."{name}"' for name in batch.values)
        async with self._engine.begin() as connection:
            # pysqlite runs DDL outside its implicit transaction, so a failed
            # write may have left the stage behind on this pooled connection.
            await connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_STAGE_TABLE}")
            await connection.exec_driver_sql(
                f'CREATE TEMP TABLE {_STAGE_TABLE} AS SELECT {columns} FROM "{table.name}" WHERE 0'
            )
            await connection.exec_driver_sql(
                f"INSERT INTO temp.{_STAGE_TABLE} ({columns}) VALUES ({', '.join('?' * len(names))})",
                _sqlite_rows(batch),
            )
            inserted: int = (
                await connection.exec_driver_sql(
                    f"SELECT count(*) FROM temp.{_STAGE_TABLE} AS staged WHERE NOT EXISTS "
                    f'(SELECT 1 FROM "{table.name}" AS stored WHERE {key_match})'
                )
            ).scalar_one()
            updated: int = (
                await connection.exec_driver_sql(
                    f'SELECT count(*) FROM temp.{_STAGE_TABLE} AS staged JOIN "{table.name}" AS stored '
                    f"ON {key_match} WHERE {differs}"
                )
            ).scalar_one()
            assignments = ", ".join(f'"{name}" = excluded."{name}"' for name in batch.values)
            changed = " OR ".join(
                f'"{table.name}"."{name}" IS NOT excluded."{name}"' for name in batch.values
            )
            # "WHERE true" keeps SQLite from parsing ON CONFLICT as a join constraint of the SELECT.
            await connection.exec_driver_sql(
                f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM temp.{_STAGE_TABLE} WHERE true '
                f"ON CONFLICT (ts_code, trade_date) DO UPDATE SET {assignments} WHERE {changed}"
            )
            await connection.exec_driver_sql(f"DROP TABLE temp.{_STAGE_TABLE}")
        return WriteCounts(inserted=inserted, updated=updated, unchanged=batch.size - inserted - updated)

    async def read_frame(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date
    ) -> pd.DataFrame:
        table = self._layout.table(dataset)
        query = select(*table.columns).where(table.c.trade_date.between(start, end))
        if ts_codes is not None:
            query = query.where(in_values(table.c.ts_code, list(ts_codes), "sqlite"))
        query = query.order_by(table.c.ts_code, table.c.trade_date)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        if not rows:
            return empty_frame(table)
        return finish_frame(table, pd.DataFrame(rows, columns=[column.name for column in table.columns]))

    async def last_date(self, dataset: str) -> dt.date | None:
        table = self._layout.table(dataset)
        async with self._engine.connect() as connection:
            newest: dt.date | None = await connection.scalar(select(func.max(table.c.trade_date)))
        return newest


def _sqlite_rows(batch: KeyedBatch) -> list[tuple[object, ...]]:
    """Python rows for executemany, dates as the ISO text SQLAlchemy's `Date` stores on SQLite."""
    codes = np.array(batch.codes, dtype=object)[batch.code_index]
    columns = [codes.tolist(), np.datetime_as_string(batch.trade_date, unit="D").tolist()]
    for values in batch.values.values():
        cells = values.astype(object)
        cells[np.isnan(values)] = None
        columns.append(cells.tolist())
    return list(zip(*columns, strict=True))
