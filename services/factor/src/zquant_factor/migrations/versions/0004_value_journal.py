"""value_journal and value_heads: the PostgreSQL value store's append journal and each column's newest date

The heads are filled from the stored blocks. A downgrade folds the journal's entries into the blocks first
(`value_journal`), so no value is lost; SQLite's tables stay empty (its store writes blocks only).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import datetime as dt

import numpy as np
from alembic import op
from sqlalchemy import Connection, delete, func, insert, select

from zquant_factor.adapters.sqlalchemy import value_tables
from zquant_kit.persistence.migrations import (
    create_service_tables,
    drop_service_tables,
    service_bind,
    target_schema,
)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = [value_tables.value_journal, value_tables.value_heads]


def upgrade() -> None:
    create_service_tables(_TABLES)
    bind = service_bind([*_TABLES, value_tables.value_blocks])
    if target_schema() is not None:
        op.execute(value_tables.POSTGRES_JOURNAL_STORAGE)
    blocks, heads = value_tables.value_blocks.c, value_tables.value_heads
    newest = select(blocks.factor_id, blocks.column_name, func.max(blocks.last_date)).group_by(
        blocks.factor_id, blocks.column_name
    )
    bind.execute(insert(heads).from_select(["factor_id", "column_name", "last_date"], newest))


_DAYS = np.dtype("<i4")
_VALUES = np.dtype("<f8")
"""The formats of this revision's blocks and entries: dates as int32 days since 1970-01-01, values float64. The
fold writes blocks in that format with its own code, whatever format later revisions give the blocks (their
downgrades bring it back before this one runs)."""


def _fold_journal(bind: Connection) -> None:
    """Every entry, in date order, into its (code, year) blocks, one block at a time (a downgrade is rare, the
    journal a few weeks deep): dates united, the entry's values winning."""
    journal, blocks = value_tables.value_journal, value_tables.value_blocks
    c = journal.c
    rows = bind.execute(
        select(c.factor_id, c.column_name, c.ts_codes, c.trade_days, c.packed_values).order_by(
            c.factor_id, c.column_name, c.first_date
        )
    ).all()
    for factor_id, column, ts_codes, trade_days, packed_values in rows:
        codes = bytes(ts_codes).decode().split("\n")
        days = np.frombuffer(trade_days, dtype=_DAYS).astype(np.int64)
        values = np.frombuffer(packed_values, dtype=_VALUES).reshape(len(codes), days.size)
        years = days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        for year in np.unique(years).tolist():
            in_year = years == year
            for index, code in enumerate(codes):
                where = (
                    blocks.c.factor_id == factor_id,
                    blocks.c.column_name == column,
                    blocks.c.year == year,
                    blocks.c.ts_code == code,
                )
                stored = bind.execute(
                    select(blocks.c.trade_days, blocks.c.packed_values).where(*where)
                ).first()
                united, merged = _merged(stored, days[in_year], values[index, in_year])
                bind.execute(delete(blocks).where(*where))
                bind.execute(
                    insert(blocks).values(
                        factor_id=factor_id,
                        column_name=column,
                        year=year,
                        ts_code=code,
                        last_date=dt.date(1970, 1, 1) + dt.timedelta(days=int(united[-1])),
                        trade_days=united.astype(_DAYS).tobytes(),
                        packed_values=merged.astype(_VALUES).tobytes(),
                    )
                )


def _merged(
    stored: tuple[bytes, bytes] | None, days: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if stored is None:
        return days, values
    old_days = np.frombuffer(stored[0], dtype=_DAYS).astype(np.int64)
    united = np.union1d(old_days, days)
    merged = np.full(united.size, np.nan)
    merged[np.searchsorted(united, old_days)] = np.frombuffer(stored[1], dtype=_VALUES)
    merged[np.searchsorted(united, days)] = values
    return united, merged


def downgrade() -> None:
    _fold_journal(service_bind([*_TABLES, value_tables.value_blocks]))
    drop_service_tables(_TABLES)
