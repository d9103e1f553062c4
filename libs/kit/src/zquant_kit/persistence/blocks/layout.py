"""Which tables a block store serves: the row tables by dataset, their block tables and the
staleness marker table, all in one schema; and the DDL of the blocks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Table

KEY_COLUMNS = ("ts_code", "trade_date")
"""Every row table is keyed by (ts_code, trade_date); the rest of its columns are float64 values."""


@dataclass(frozen=True)
class BlockLayout:
    """`tables` by dataset name (each keyed by `KEY_COLUMNS`, partitioned by year on PostgreSQL);
    `staleness` is the table of (dataset, year) pairs written since their blocks were built;
    `noun` names the datasets in errors ("unknown bar dataset ...")."""

    schema: str
    tables: Mapping[str, Table]
    staleness: str
    noun: str

    def table(self, dataset: str) -> Table:
        """The table of a dataset; `ValueError` for a name the store does not know."""
        try:
            return self.tables[dataset]
        except KeyError:
            raise ValueError(
                f"unknown {self.noun} dataset {dataset!r}; expected one of {sorted(self.tables)}"
            ) from None

    def block_table_name(self, dataset: str) -> str:
        return f"{self.table(dataset).name}_blocks"

    def value_columns(self, dataset: str) -> list[str]:
        """The dataset's value columns in table order (everything but the key)."""
        return [column.name for column in self.table(dataset).columns if column.name not in KEY_COLUMNS]

    def blocks_create_ddl(self) -> list[str]:
        """The staleness table, then per dataset its block table: one row per (code, year) holding
        that year's trade dates (packed big-endian `date`s) and each value column (packed
        big-endian float8, NaN for NULL, in the dates' order) as `bytea`.

        A whole-market read then costs PostgreSQL a few bytes copied per value instead of a
        function call per value. The values are stored uncompressed (`STORAGE EXTERNAL`): floats
        barely compress and every read would pay to decompress."""
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.schema}.{self.staleness} (dataset text NOT NULL, "
            "year smallint NOT NULL, version bigint NOT NULL DEFAULT 1, PRIMARY KEY (dataset, year))"
        ]
        for dataset in self.tables:
            columns = [f'"{name}"' for name in ("trade_dates", *self.value_columns(dataset))]
            table = f"{self.schema}.{self.block_table_name(dataset)}"
            packed = ", ".join(f"{name} bytea NOT NULL" for name in columns)
            statements.append(
                f'CREATE TABLE IF NOT EXISTS {table} (ts_code text COLLATE "C" NOT NULL, year smallint NOT NULL, '
                f"{packed}, PRIMARY KEY (ts_code, year))"
            )
            storage = ", ".join(f"ALTER COLUMN {name} SET STORAGE EXTERNAL" for name in columns)
            statements.append(f"ALTER TABLE {table} {storage}")
        return statements

    def blocks_drop_ddl(self) -> list[str]:
        return [
            *(
                f"DROP TABLE IF EXISTS {self.schema}.{self.block_table_name(dataset)}"
                for dataset in self.tables
            ),
            f"DROP TABLE IF EXISTS {self.schema}.{self.staleness}",
        ]
