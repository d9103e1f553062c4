"""value_journal and value_heads: the PostgreSQL value store's append journal and each column's newest date

The heads are filled from the stored blocks. A downgrade folds the journal's entries into the blocks first
(`value_journal`), so no value is lost; SQLite's tables stay empty (its store writes blocks only).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import itertools

from alembic import op
from sqlalchemy import Connection, delete, func, insert, select

from zquant_factor.adapters.sqlalchemy import value_tables
from zquant_factor.adapters.sqlalchemy.value_blocks import block_row, decode, merged
from zquant_factor.adapters.sqlalchemy.value_journal import JournalEntry, entry_blocks
from zquant_factor.adapters.sqlalchemy.value_tables import BLOCK_COLUMNS
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


def _fold_journal(bind: Connection) -> None:
    """Every entry into its blocks, one block at a time (a downgrade is rare, the journal a few weeks deep)."""
    journal, blocks = value_tables.value_journal, value_tables.value_blocks
    c = journal.c
    rows = bind.execute(
        select(c.factor_id, c.column_name, c.ts_codes, c.trade_days, c.packed_values).order_by(
            c.factor_id, c.column_name, c.first_date
        )
    ).all()
    for factor_id, group in itertools.groupby(rows, key=lambda row: row[0]):
        for block in entry_blocks(JournalEntry.of(*row[1:]) for row in group):
            where = (
                blocks.c.factor_id == factor_id,
                blocks.c.column_name == block.column,
                blocks.c.year == block.year,
                blocks.c.ts_code == block.ts_code,
            )
            stored = bind.execute(select(blocks.c.trade_days, blocks.c.packed_values).where(*where)).first()
            whole = block if stored is None else merged(block, decode(stored[0], stored[1]))
            bind.execute(delete(blocks).where(*where))
            bind.execute(
                insert(blocks).values(dict(zip(BLOCK_COLUMNS, block_row(factor_id, whole), strict=True)))
            )


def downgrade() -> None:
    _fold_journal(service_bind([*_TABLES, value_tables.value_blocks]))
    drop_service_tables(_TABLES)
