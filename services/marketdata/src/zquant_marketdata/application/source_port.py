"""Outbound port to the market-data vendor, shaped after Tushare Pro.

Frames keep Tushare's column names and units, and dates are `YYYYMMDD`
strings, so the sync use cases and the stored partitions speak one vocabulary.
Every method raises a `zquant_marketdata.domain.errors.SourceError` subclass.

When is an empty frame legitimate? A call that names a day or range says so
with `expect_rows`: the sync passes `expect_rows=True` when the trade calendar
says the day is open (or the range holds open days), and then an empty answer
is `SourceUnavailableError`, because Tushare's SDK turns an HTTP error into an
empty frame too. With `expect_rows=False` an empty frame means "no data", e.g.
`daily(trade_date=...)` on a holiday or a stock suspended over a whole range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import pandas as pd

ListStatus = Literal["L", "D", "P"]
"""Listed, delisted, paused (Tushare's `list_status`)."""


@dataclass(frozen=True, slots=True)
class StockRecord:
    """One security of the stock list, cleaned: text trimmed (None when blank), dates parsed."""

    ts_code: str
    symbol: str
    name: str
    area: str | None
    industry: str | None
    market: str | None
    exchange: str | None
    list_status: str
    list_date: dt.date | None
    delist_date: dt.date | None


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One day of an exchange's trade calendar, cleaned."""

    exchange: str
    cal_date: dt.date
    is_open: bool
    pretrade_date: dt.date | None


@dataclass(frozen=True, slots=True)
class BarQuery:
    """One call of a bar API (`api_name`, see `MarketDataSource.bars`): a day's whole market (`trade_date`),
    or codes (`ts_code`, comma separated) over a range."""

    api_name: str
    trade_date: str | None = None
    ts_code: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    expect_rows: bool = False


class MarketDataSource(Protocol):
    async def stock_basic(self, list_status: ListStatus = "L", *, expect_rows: bool = True) -> pd.DataFrame:
        """Securities with that listing status: ts_code, symbol, name, area, industry,
        market, exchange, list_status, list_date, delist_date."""
        ...

    async def stocks(self, list_status: ListStatus = "L", *, expect_rows: bool = True) -> list[StockRecord]:
        """`stock_basic` cleaned into records, one per ts_code (rows without a code dropped)."""
        ...

    async def calendar(self, exchange: str, start_date: str, end_date: str) -> list[CalendarDay]:
        """`trade_cal` cleaned into records, one per day, in date order."""
        ...

    async def trade_cal(self, exchange: str, start_date: str, end_date: str) -> pd.DataFrame:
        """Every calendar day in the range: exchange, cal_date, is_open (0/1), pretrade_date.

        Never legitimately empty: a range always has calendar days, open or not.
        """
        ...

    async def bars(self, query: BarQuery) -> pd.DataFrame:
        """One call of a bar API, by `query.api_name`:

        - daily: unadjusted daily bars;
        - adj_factor: cumulative (hfq) adjustment factors: ts_code, trade_date, adj_factor;
        - daily_basic: daily valuation and liquidity metrics (turnover_rate, total_mv, ...);
        - index_daily: daily bars of one index (`ts_code`, e.g. 000001.SH as a benchmark) over a range;
        - stk_factor: Tushare's precomputed technical factors per stock and day;
        - stk_limit: daily up / down limit prices: ts_code, trade_date, pre_close, up_limit, down_limit (CNY).
        """
        ...

    async def fetch_table(self, api_name: str, params: Mapping[str, str], *, expect_rows: bool = False) -> pd.DataFrame:
        """One call of an API of `domain.rule_datasets` (suspend_d, namechange, dividend, index_weight)
        with Tushare's params, e.g. `{"ex_date": "20240618"}` or `{"index_code": ..., "start_date": ...}`;
        the frame has Tushare's columns for it."""
        ...
