"""Where the factor values live: one row table keyed by (series code, trade_date) with a single float64
`value`, and its per-(code, year) packed blocks, in the kit's block design (`zquant_kit.persistence.blocks`).

The kit's layout keys rows by (ts_code, trade_date). A factor value has two more keys, the factor and its
column, so the stored code is the composite `series_code(factor_id, column, ts_code)`: one series per
(factor, column, stock), and all series of a factor (or of one column) form one contiguous key range, which a
delete or a listing reads off the primary key. Never a table per factor or per stock: the schema is fixed.

`value_series` lists the series with their last written date, so "which codes" and "up to which date" cost a
small index read instead of a scan of the values.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Double, String, Table, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from zquant_factor.adapters.sqlalchemy.tables import SCHEMA, metadata
from zquant_kit.persistence.blocks.layout import BlockLayout

DATASET = "factor_values"
SEPARATOR = ":"
"""Neither a factor id (a uuid), a column name (`[a-z0-9_]`) nor a ts_code contains it."""
FIRST_PARTITION_YEAR = 2000
LAST_PARTITION_YEAR = 2035

_CODE = Text(collation="C").with_variant(Text(), "sqlite")

factor_values = Table(
    DATASET,
    metadata,
    Column("ts_code", _CODE, primary_key=True),
    Column("trade_date", Date, primary_key=True),
    Column("value", Double, nullable=True),
    postgresql_partition_by="RANGE (trade_date)",
)
value_series = Table(
    "value_series",
    metadata,
    Column("factor_id", String(36), primary_key=True),
    Column("column_name", String(63), primary_key=True),
    Column("ts_code", String(16, collation="C").with_variant(String(16), "sqlite"), primary_key=True),
    Column("last_date", Date, nullable=False),
)

VALUE_BLOCKS = BlockLayout(
    schema=SCHEMA, tables={DATASET: factor_values}, staleness="value_block_staleness", noun="factor value"
)


def series_prefix(factor_id: str, column: str | None = None) -> str:
    """The start of every series code of the factor (of one of its columns when `column` is given)."""
    return SEPARATOR.join([factor_id, column, ""] if column is not None else [factor_id, ""])


def series_code(factor_id: str, column: str, ts_code: str) -> str:
    return series_prefix(factor_id, column) + ts_code


def prefix_end(prefix: str) -> str:
    """The first string after every string starting with `prefix` (which ends with the separator):
    `prefix <= code < prefix_end(prefix)` is a range scan of the primary key in byte order."""
    return prefix[:-1] + chr(ord(SEPARATOR) + 1)


def postgres_create_ddl(
    first_year: int = FIRST_PARTITION_YEAR, last_year: int = LAST_PARTITION_YEAR
) -> list[str]:
    """The partitioned value table (a partition a year, a default one for odd dates), then its blocks."""
    name = f"{SCHEMA}.{DATASET}"
    partitions = [
        f"CREATE TABLE IF NOT EXISTS {name}_y{year} PARTITION OF {name} "
        f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
        for year in range(first_year, last_year + 1)
    ]
    return [
        str(CreateTable(factor_values).compile(dialect=postgresql.dialect())).strip(),
        *partitions,
        f"CREATE TABLE IF NOT EXISTS {name}_default PARTITION OF {name} DEFAULT",
        *VALUE_BLOCKS.blocks_create_ddl(),
    ]


def postgres_drop_ddl() -> list[str]:
    return [*VALUE_BLOCKS.blocks_drop_ddl(), f"DROP TABLE IF EXISTS {SCHEMA}.{DATASET} CASCADE"]
