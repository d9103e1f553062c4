"""Where the factor values live: one row per (factor, column, year, stock) holding that series-year as a
packed block (`value_blocks`: dates and float64 values as byte strings, and the block's last date), never a
row per value, a table per factor or a table per stock: the schema is fixed. All blocks of a factor (or of
one of its columns) are one range of the primary key, which a delete, a listing or a read scans.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, LargeBinary, SmallInteger, String, Table

from zquant_factor.adapters.sqlalchemy.tables import SCHEMA, metadata

value_blocks = Table(
    "value_blocks",
    metadata,
    Column("factor_id", String(36), primary_key=True),
    Column("column_name", String(63), primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("ts_code", String(16, collation="C").with_variant(String(16), "sqlite"), primary_key=True),
    Column("last_date", Date, nullable=False),
    Column("trade_days", LargeBinary, nullable=False),
    Column("packed_values", LargeBinary, nullable=False),
)
BLOCK_COLUMNS = [column.name for column in value_blocks.columns]
BLOCKS = f"{SCHEMA}.{value_blocks.name}"

POSTGRES_BLOCK_STORAGE = f"ALTER TABLE {BLOCKS} ALTER COLUMN trade_days SET STORAGE PLAIN, ALTER COLUMN packed_values SET STORAGE PLAIN"
"""Blocks stay in the row, uncompressed: a year is at most 366 × 12 bytes, well inside a page, floats barely
compress, and a daily append or a read then touches one heap tuple per block, no TOAST chunks."""

value_journal = Table(
    "value_journal",
    metadata,
    Column("factor_id", String(36), primary_key=True),
    Column("column_name", String(63), primary_key=True),
    Column("first_date", Date, primary_key=True),
    Column("last_date", Date, nullable=False),
    Column("ts_codes", LargeBinary, nullable=False),
    Column("trade_days", LargeBinary, nullable=False),
    Column("packed_values", LargeBinary, nullable=False),
)
"""PostgreSQL's append journal (`value_journal` module): a short write of a column past its newest stored date,
as one row of its whole codes × dates panel, until folded into the column's blocks."""
value_heads = Table(
    "value_heads",
    metadata,
    Column("factor_id", String(36), primary_key=True),
    Column("column_name", String(63), primary_key=True),
    Column("last_date", Date, nullable=False),
)
"""PostgreSQL's newest stored date of each (factor, column), blocks and journal together: read in one key lookup."""
JOURNAL = f"{SCHEMA}.{value_journal.name}"
HEADS = f"{SCHEMA}.{value_heads.name}"
POSTGRES_JOURNAL_STORAGE = f"ALTER TABLE {JOURNAL} ALTER COLUMN trade_days SET STORAGE EXTERNAL, ALTER COLUMN packed_values SET STORAGE EXTERNAL"
"""An entry is a whole cross-section (5000 codes × 8 B), out of line in TOAST but uncompressed: floats barely
compress. Its codes compress well and keep the default."""
