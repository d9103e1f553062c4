"""SQLAlchemy Core adapter of the rule datasets' plain tables: keyed upserts with exact counts."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from sqlalchemy import and_, select

from zquant_kit.persistence.blocks.counts import WriteCounts
from zquant_kit.persistence.upsert import upsert
from zquant_marketdata.adapters.sqlalchemy.reference_repository import Row, sort_out
from zquant_marketdata.adapters.sqlalchemy.rule_tables import RECORD_TABLES
from zquant_marketdata.adapters.sqlalchemy.sql_store import SqlStore
from zquant_marketdata.adapters.tushare.rows import text_or_none, to_date
from zquant_marketdata.application.sync_ports import RuleRecordWriter
from zquant_marketdata.domain.rule_datasets import RULE_DATASETS, RuleDataset


def _number(value: Any) -> float | None:
    number = pd.to_numeric(value, errors="coerce")
    return None if number is None or math.isnan(float(number)) else float(number)


def clean_records(dataset: RuleDataset, frame: pd.DataFrame) -> list[Row]:
    """Tushare's rows as table rows: dates parsed, text trimmed, numbers as floats (None for blanks);
    rows lacking a key value dropped, and one row per key (the last)."""
    rows: dict[tuple[Any, ...], Row] = {}
    for record in frame.to_dict("records"):
        row: Row = {}
        for name in dataset.columns:
            value = record.get(name)
            if name in dataset.date_columns:
                row[name] = to_date(value)
            elif name in dataset.text_columns:
                row[name] = text_or_none(value)
            else:
                row[name] = _number(value)
        key = tuple(row[name] for name in dataset.keys)
        if all(part is not None for part in key):
            rows[key] = row
    return list(rows.values())


class SqlAlchemyRecordRepository(SqlStore, RuleRecordWriter):
    async def upsert_records(self, dataset: str, frame: pd.DataFrame) -> WriteCounts:
        spec = RULE_DATASETS[dataset]
        table = RECORD_TABLES[dataset]
        rows = clean_records(spec, frame)
        if not rows:
            return WriteCounts(0, 0, 0)
        first_key = spec.keys[0]
        date_key = next(name for name in spec.keys if name in spec.date_columns)
        days = [row[date_key] for row in rows]
        owners = sorted({row[first_key] for row in rows})
        values = [name for name in spec.columns if name not in spec.keys]
        async with self._sessions() as session:
            stored_rows = (
                await session.execute(
                    select(table).where(
                        and_(table.c[first_key].in_(owners), table.c[date_key].between(min(days), max(days)))
                    )
                )
            ).all()
            existing = {tuple(getattr(row, name) for name in spec.keys): row for row in stored_rows}
            new, changed, unchanged = sort_out(
                rows,
                lambda row: existing.get(tuple(row[name] for name in spec.keys)),
                lambda stored, row: any(getattr(stored, name) != row[name] for name in values),
            )
            if new or changed:
                await session.execute(upsert(session, table, spec.keys, values), [*new, *changed])
            await session.commit()
        return WriteCounts(inserted=len(new), updated=len(changed), unchanged=unchanged)
