"""Tables of the bulk bar store: one per dataset, keyed by (ts_code, trade_date).

One table per dataset (never per stock) keeps the schema fixed, so syncing a
new listing is an insert, not an ALTER. On PostgreSQL the tables live in
schema `marketdata` and are range-partitioned by trade_date, one partition a
year: a date-range read touches only its years and old years stay cold. The
Core definitions below serve both the Alembic DDL (PostgreSQL) and
`metadata.create_all` on SQLite, where `SQLITE_SCHEMA_TRANSLATE` drops the
schema.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Connection, Date, Double, MetaData, Table, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from zquant_kit.persistence.blocks.layout import BlockLayout

SCHEMA = "marketdata"
SQLITE_SCHEMA_TRANSLATE = {SCHEMA: None}
FIRST_PARTITION_YEAR = 1990
LAST_PARTITION_YEAR = 2035

metadata = MetaData(schema=SCHEMA)

_TS_CODE = Text(collation="C").with_variant(Text(), "sqlite")
"""Byte-order codes: cheaper key comparisons than a locale collation, and the
same ORDER BY as SQLite's BINARY collation, whatever locale the cluster has."""


def _bar_table(name: str, *values: Column) -> Table:
    return Table(
        name,
        metadata,
        Column("ts_code", _TS_CODE, primary_key=True),
        Column("trade_date", Date, primary_key=True),
        *values,
        postgresql_partition_by="RANGE (trade_date)",
    )


def _required(name: str) -> Column:
    return Column(name, Double, nullable=False)


def _optional(name: str) -> Column:
    return Column(name, Double, nullable=True)


daily = _bar_table(
    "daily",
    *map(_required, ("open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol")),
    _optional("amount"),
)
adj_factor = _bar_table("adj_factor", _required("adj_factor"))
daily_basic = _bar_table(
    "daily_basic",
    _required("turnover_rate"),
    _required("total_mv"),
    *map(_optional, ("pe", "pb", "float_share", "total_share", "circ_mv", "volume_ratio")),
)
index_daily = _bar_table(
    "index_daily",
    *map(_required, ("open", "high", "low", "close")),
    *map(_optional, ("pre_close", "change", "pct_chg")),
    _required("vol"),
    _required("amount"),
)

# Tushare's own indicators, kept to cross-check ours.
STK_FACTOR_FIELDS = (
    "close", "macd_dif", "macd_dea", "macd", "kdj_k", "kdj_d", "kdj_j",
    "rsi_6", "rsi_12", "rsi_24", "boll_upper", "boll_mid", "boll_lower", "cci",
)
stk_factor = _bar_table("stk_factor", *map(_optional, STK_FACTOR_FIELDS))

stk_limit = _bar_table("stk_limit", _optional("pre_close"), _required("up_limit"), _required("down_limit"))

BAR_TABLES: dict[str, Table] = {
    table.name: table for table in (daily, adj_factor, daily_basic, index_daily, stk_factor, stk_limit)
}
FIRST_BAR_DATASETS = ("daily", "adj_factor", "daily_basic", "index_daily", "stk_factor")
"""The bar tables revisions 0001-0004 created; later ones add theirs (0005: stk_limit)."""


BLOCK_STALENESS = "bar_block_staleness"
"""(dataset, year) pairs written since their blocks were last built: readers take those years from the rows."""

BAR_BLOCKS = BlockLayout(schema=SCHEMA, tables=BAR_TABLES, staleness=BLOCK_STALENESS, noun="bar")
"""The bar tables in the kit's per-(code, year) block design (`zquant_kit.persistence.blocks`)."""


def bar_table(dataset: str) -> Table:
    """The table of a dataset; `ValueError` for a name the store does not know."""
    return BAR_BLOCKS.table(dataset)


def postgres_partitions_ddl(first_year: int, last_year: int, datasets: Sequence[str] | None = None) -> list[str]:
    """Yearly partitions [first_year, last_year] of every bar table, skipping existing ones.

    A later migration extends the range with this; the years must not yet hold
    rows in the default partition, or PostgreSQL refuses the new partition.
    """
    return [
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table.name}_y{year} PARTITION OF {SCHEMA}.{table.name} "
        f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
        for table in _tables(datasets)
        for year in range(first_year, last_year + 1)
    ]


def _tables(datasets: Sequence[str] | None) -> list[Table]:
    return [BAR_TABLES[name] for name in datasets] if datasets is not None else list(BAR_TABLES.values())


def postgres_create_ddl(
    first_year: int = FIRST_PARTITION_YEAR, last_year: int = LAST_PARTITION_YEAR, datasets: Sequence[str] | None = None
) -> list[str]:
    """Statements creating the partitioned bar tables, for an Alembic `op.execute` each.

    Dates outside the yearly partitions land in a default partition, so an odd
    date is stored rather than rejected.
    """
    dialect = postgresql.dialect()
    return [
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
        *(str(CreateTable(table).compile(dialect=dialect)).strip() for table in _tables(datasets)),
        *postgres_partitions_ddl(first_year, last_year, datasets),
        *(
            f"CREATE TABLE {SCHEMA}.{table.name}_default PARTITION OF {SCHEMA}.{table.name} DEFAULT"
            for table in _tables(datasets)
        ),
    ]


def postgres_drop_ddl(datasets: Sequence[str] | None = None) -> list[str]:
    """Statements dropping the bar tables with their partitions; the schema stays,
    as other market-data tables may share it."""
    return [f"DROP TABLE IF EXISTS {SCHEMA}.{table.name} CASCADE" for table in _tables(datasets)]


def block_table_name(dataset: str) -> str:
    return BAR_BLOCKS.block_table_name(dataset)


def value_columns(dataset: str) -> list[str]:
    """The dataset's value columns in table order (everything but the key)."""
    return BAR_BLOCKS.value_columns(dataset)


def postgres_blocks_create_ddl() -> list[str]:
    """Read-optimised copies of the bar tables on PostgreSQL, one row per (code, year) (see
    `BlockLayout.blocks_create_ddl`). The blocks are derived data: every write marks its years in
    `bar_block_staleness` in the same transaction, readers take those years from the rows, and a
    refresh rebuilds them."""
    return BAR_BLOCKS.blocks_create_ddl()


def postgres_blocks_drop_ddl() -> list[str]:
    return BAR_BLOCKS.blocks_drop_ddl()


def create_sqlite_bar_tables(connection: Connection) -> None:
    """Create the bar tables on SQLite (all-in-one mode), e.g. via `AsyncConnection.run_sync`."""
    metadata.create_all(connection.execution_options(schema_translate_map=SQLITE_SCHEMA_TRANSLATE))
