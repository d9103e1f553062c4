"""Outbound port to the bulk store of daily bars, one table per dataset.

Datasets are `daily`, `adj_factor`, `daily_basic` and `index_daily`, with
Tushare's column names; prices are stored raw (unadjusted) and adjustment
happens on read, from `adj_factor`. Writes are idempotent upserts keyed by
(ts_code, trade_date) and report exactly what changed, so a sync run can tell
"re-fetched, nothing new" from "the vendor revised history".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

import pandas as pd

from zquant_kit.persistence.blocks.counts import WriteCounts


class BarStore(Protocol):
    async def write(self, dataset: str, frame: pd.DataFrame) -> WriteCounts:
        """Upsert the frame's rows in one transaction: all of them or none.

        The frame needs ts_code, trade_date (a date, datetime or `YYYYMMDD`
        string/int) and the dataset's NOT NULL columns; missing nullable
        columns are stored as NULL and columns the dataset lacks are ignored.
        Raises `ValueError` naming the column for an unknown dataset, missing
        or null required values, unparsable values or duplicate keys.
        """
        ...

    async def read_bars(
        self, dataset: str, ts_codes: Sequence[str] | None, start: date, end: date
    ) -> pd.DataFrame:
        """Rows with trade_date in [start, end] of those codes (None: every code),
        ordered by ts_code, trade_date; trade_date is datetime64[ns], values float64
        with NaN for NULL."""
        ...

    async def last_trade_date(self, dataset: str) -> date | None:
        """The newest stored trade_date of the dataset, None while it is empty."""
        ...

    async def refresh_blocks(self) -> int:
        """Brings the store's read-optimised copies (if it keeps any) up to date with every write so
        far; returns how many parts it rebuilt. Reads are correct without it, only slower; a sync
        run calls it when it ends."""
        ...
