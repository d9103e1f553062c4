"""The parts of the value store that are plain SQL on a session or connection: a factor's blocks and
indicator state removed, and the stored blocks a write appends to or merges with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from zquant_factor.adapters.sqlalchemy.tables import indicator_state
from zquant_factor.adapters.sqlalchemy.value_blocks import BlockKey, StoredBlock, decoded
from zquant_factor.adapters.sqlalchemy.value_days import day_number
from zquant_factor.adapters.sqlalchemy.value_tables import value_blocks, value_heads, value_journal
from zquant_factor.application.value_ports import FactorValueDeletion

Bind = AsyncSession | AsyncConnection


async def delete_factor_values(bind: Bind, factor_id: str) -> None:
    """In the caller's transaction. The blocks of a factor are one key range of their primary key (as are
    its journal entries and column heads)."""
    for table in (value_blocks, value_journal, value_heads):
        await bind.execute(delete(table).where(table.c.factor_id == factor_id))
    await bind.execute(delete(indicator_state).where(indicator_state.c.factor_id == factor_id))


async def stored_ends(bind: AsyncConnection, factor_id: str, scope: BlockScope) -> dict[BlockKey, int]:
    """The last day number of each stored block of these columns and codes in these years."""
    c = value_blocks.c
    query = select(c.column_name, c.year, c.ts_code, c.last_date).where(
        c.factor_id == factor_id, *_within(scope)
    )
    return {(row[0], row[1], row[2]): day_number(row[3]) for row in await bind.execute(query)}


async def stored_blocks(
    bind: AsyncConnection, factor_id: str, scope: BlockScope
) -> dict[BlockKey, StoredBlock]:
    """The stored blocks of these columns and codes in these years, decoded."""
    c = value_blocks.c
    query = select(c.column_name, c.year, c.ts_code, c.trade_days, c.packed_values).where(
        c.factor_id == factor_id, *_within(scope)
    )
    return decoded((row[0], row[1], row[2], row[3], row[4]) for row in await bind.execute(query))


@dataclass(frozen=True, slots=True)
class BlockScope:
    """The blocks a write may touch: of these columns, years and codes (one factor's)."""

    columns: list[str]
    years: list[int]
    codes: list[str]


def _within(scope: BlockScope) -> tuple[ColumnElement[bool], ...]:
    c = value_blocks.c
    return c.column_name.in_(scope.columns), c.year.in_(scope.years), c.ts_code.in_(scope.codes)


class SessionValueRows(FactorValueDeletion):
    """`uow.values` of the definition unit of work: a factor's values go in the transaction that drops it."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def delete_factor(self, factor_id: str) -> None:
        await delete_factor_values(self._s, factor_id)
