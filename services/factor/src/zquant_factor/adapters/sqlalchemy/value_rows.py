"""The parts of the value store that are plain SQL on a session or connection: a factor's series removed
(rows, blocks, series list, indicator state) and the series list kept up to date after a write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, delete, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from zquant_factor.adapters.sqlalchemy.tables import indicator_state
from zquant_factor.adapters.sqlalchemy.value_tables import (
    VALUE_BLOCKS,
    factor_values,
    prefix_end,
    series_prefix,
    value_series,
)
from zquant_factor.application.value_ports import FactorValueDeletion
from zquant_kit.persistence.upsert import dialect_name, upsert

Bind = AsyncSession | AsyncConnection


async def delete_factor_values(bind: Bind, factor_id: str) -> None:
    """In the caller's transaction. The rows and blocks of a factor are one key range of their primary keys."""
    low = series_prefix(factor_id)
    high = prefix_end(low)
    code = factor_values.c.ts_code
    await bind.execute(delete(factor_values).where(and_(code >= low, code < high)))
    if _dialect(bind) == "postgresql":
        blocks = f"{VALUE_BLOCKS.schema}.{VALUE_BLOCKS.block_table_name(factor_values.name)}"
        await bind.execute(
            text(f"DELETE FROM {blocks} WHERE ts_code >= :low AND ts_code < :high"),
            {"low": low, "high": high},
        )
    await bind.execute(delete(value_series).where(value_series.c.factor_id == factor_id))
    await bind.execute(delete(indicator_state).where(indicator_state.c.factor_id == factor_id))


async def record_series(
    bind: AsyncConnection, factor_id: str, column: str, codes: Sequence[str], last_date: dt.date
) -> None:
    """Each code's series now reaches at least `last_date`; a write of older dates never moves it back."""
    statement = upsert(
        dialect_name(bind.engine),
        value_series,
        ["factor_id", "column_name", "ts_code"],
        ["last_date"],
        where=lambda new: new.last_date > value_series.c.last_date,
    )
    rows = [
        {"factor_id": factor_id, "column_name": column, "ts_code": code, "last_date": last_date}
        for code in codes
    ]
    await bind.execute(statement, rows)


def _dialect(bind: Bind) -> str:
    engine = bind.bind if isinstance(bind, AsyncSession) else bind.engine
    if engine is None:
        raise RuntimeError("the session is bound to no engine")
    return engine.dialect.name


class SessionValueRows(FactorValueDeletion):
    """`uow.values` of the definition unit of work: a factor's values go in the transaction that drops it."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def delete_factor(self, factor_id: str) -> None:
        await delete_factor_values(self._s, factor_id)
