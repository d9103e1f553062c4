"""`MarketDataSource`s answered from memory: the generated sample market, and the base that
`CsvDirectorySource` shares.

Frames look like Tushare's: its column names and units, dates as `YYYYMMDD` strings.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from zquant_marketdata.adapters.rule_rows import select_rows
from zquant_marketdata.adapters.tushare.rows import TushareFrameRecords
from zquant_marketdata.application.source_port import BarQuery, ListStatus, MarketDataSource
from zquant_marketdata.domain import sample_market, sample_rules
from zquant_marketdata.domain.errors import SourceUnavailableError
from zquant_marketdata.domain.rule_datasets import RECORD_DATASETS, RULE_DATASETS

STOCK_BASIC_COLUMNS = [
    "ts_code", "symbol", "name", "area", "industry", "market", "exchange", "list_status", "list_date", "delist_date",
]  # fmt: skip
TRADE_CAL_COLUMNS = ["exchange", "cal_date", "is_open", "pretrade_date"]
STK_FACTOR_COLUMNS = ["ts_code", "trade_date", "close", "macd_dif", "macd_dea", "macd"]


def _yyyymmdd(dates: np.ndarray) -> np.ndarray:
    return np.char.replace(np.datetime_as_string(np.asarray(dates, dtype="datetime64[D]"), unit="D"), "-", "")


class _Table:
    """One dataset sorted by trade_date, with the date column kept for binary search."""

    def __init__(self, frame: pd.DataFrame) -> None:
        frame = frame.sort_values(["trade_date", "ts_code"], kind="stable").reset_index(drop=True)
        self.frame = frame
        self.dates = frame["trade_date"].to_numpy(dtype=str)
        self.empty = frame.iloc[0:0]

    def select(
        self, trade_date: str | None, ts_code: str | None, start_date: str | None, end_date: str | None
    ) -> pd.DataFrame:
        lo, hi = 0, len(self.dates)
        if trade_date:
            lo = int(np.searchsorted(self.dates, trade_date, "left"))
            hi = int(np.searchsorted(self.dates, trade_date, "right"))
        else:
            if start_date:
                lo = int(np.searchsorted(self.dates, start_date, "left"))
            if end_date:
                hi = int(np.searchsorted(self.dates, end_date, "right"))
        if lo >= hi:
            return self.empty
        frame = self.frame.iloc[lo:hi]
        if ts_code:
            frame = frame[frame["ts_code"].isin(ts_code.split(","))]
        return frame.reset_index(drop=True)


class InMemoryMarketSource(TushareFrameRecords, MarketDataSource):
    """Serves Tushare-shaped frames; the trade calendar is open on exactly `open_days`.

    `strict=True` keeps the port's rule that an empty answer where rows were expected is
    `SourceUnavailableError`; a directory of files (strict=False) simply has what it has.
    """

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        stock_basic: pd.DataFrame,
        open_days: Iterable[str],
        *,
        strict: bool = True,
        records: Mapping[str, pd.DataFrame] | None = None,
    ) -> None:
        """`tables` are bar-like (ts_code, trade_date); `records` the rule datasets' frames by API name."""
        self._tables = {name: _Table(frame) for name, frame in tables.items()}
        self._stock_basic = stock_basic.reindex(columns=STOCK_BASIC_COLUMNS)
        self._open_days = sorted(set(open_days))
        self._open_set = frozenset(self._open_days)
        self._strict = strict
        self._no_table: dict[str, pd.DataFrame] = {}
        self._records = {name: frame for name, frame in (records or {}).items()}

    @property
    def first_day(self) -> str | None:
        return self._open_days[0] if self._open_days else None

    @property
    def last_day(self) -> str | None:
        return self._open_days[-1] if self._open_days else None

    async def stock_basic(self, list_status: ListStatus = "L", *, expect_rows: bool = True) -> pd.DataFrame:
        frame = self._stock_basic[self._stock_basic["list_status"] == list_status].reset_index(drop=True)
        return self._checked("stock_basic", frame, expect_rows)

    async def trade_cal(self, exchange: str, start_date: str, end_date: str) -> pd.DataFrame:
        days = pd.date_range(start_date, end_date, freq="D").strftime("%Y%m%d").tolist()
        if not days:
            raise SourceUnavailableError("trade_cal", "an empty range has no calendar days")
        previous = [bisect.bisect_left(self._open_days, day) - 1 for day in days]
        return pd.DataFrame(
            {
                "exchange": exchange or "SSE",
                "cal_date": days,
                "is_open": [int(day in self._open_set) for day in days],
                "pretrade_date": [self._open_days[i] if i >= 0 else None for i in previous],
            },
            columns=TRADE_CAL_COLUMNS,
        )

    async def fetch_table(self, api_name: str, params: Mapping[str, str], *, expect_rows: bool = False) -> pd.DataFrame:
        frame = select_rows(api_name, self._records.get(api_name), params)
        return self._checked(api_name, frame, expect_rows)

    async def bars(self, query: BarQuery) -> pd.DataFrame:
        api_name = query.api_name
        table = self._tables.get(api_name)
        if table is None:
            frame = self._no_table.get(api_name)
            if frame is None:
                columns = STK_FACTOR_COLUMNS if api_name == "stk_factor" else ["ts_code", "trade_date"]
                frame = self._no_table[api_name] = pd.DataFrame(columns=columns)
        else:
            frame = table.select(query.trade_date, query.ts_code, query.start_date, query.end_date)
        return self._checked(api_name, frame, query.expect_rows)

    def _checked(self, api_name: str, frame: pd.DataFrame, expect_rows: bool) -> pd.DataFrame:
        if expect_rows and self._strict and frame.empty:
            raise SourceUnavailableError(api_name, "no rows where rows were expected")
        return frame


def _record_frame(rows: list[dict], api_name: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(RULE_DATASETS[api_name].columns))
    for name in RULE_DATASETS[api_name].date_columns:
        frame[name] = [day.strftime("%Y%m%d") if day else None for day in frame[name]]
    return frame


def rule_frames(rules: sample_rules.SampleRules) -> dict[str, pd.DataFrame]:
    """The sample's rule datasets as Tushare frames by API name (stk_limit is bar-shaped)."""
    frames = {name: _record_frame(getattr(rules, name), name) for name in RECORD_DATASETS}
    limits = dict(rules.stk_limit)
    limits["trade_date"] = _yyyymmdd(limits["trade_date"])
    frames["stk_limit"] = pd.DataFrame(limits)
    return frames


def market_frames(
    market: sample_market.SampleMarket, daily: dict[str, np.ndarray] | None = None
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The sample market as Tushare frames (bar tables, stock_basic); `daily` replaces its bars."""
    tables = {}
    for name in ("daily", "adj_factor", "daily_basic", "index_daily"):
        columns = dict(daily if name == "daily" and daily is not None else getattr(market, name))
        columns["trade_date"] = _yyyymmdd(columns["trade_date"])
        tables[name] = pd.DataFrame(columns)
    stock_basic = pd.DataFrame(
        [
            {
                "ts_code": s.ts_code, "symbol": s.symbol, "name": s.name, "area": s.area, "industry": s.industry,
                "market": s.market, "exchange": s.exchange, "list_status": s.list_status,
                "list_date": s.list_date.strftime("%Y%m%d"),
                "delist_date": s.delist_date.strftime("%Y%m%d") if s.delist_date else None,
            }  # fmt: skip
            for s in market.stocks
        ],
        columns=STOCK_BASIC_COLUMNS,
    )
    return tables, stock_basic


class SampleMarketSource(TushareFrameRecords, MarketDataSource):
    """The deterministic sample market behind the `MarketDataSource` port.

    The market is generated on first use (in a worker thread: 300 stocks x 5 years takes
    about half a second), so wiring it costs nothing.
    """

    def __init__(self, spec: sample_market.SampleSpec | None = None) -> None:
        self.spec = spec or sample_market.SampleSpec()
        self._inner: InMemoryMarketSource | None = None
        self._lock = asyncio.Lock()

    @property
    def first_day(self) -> str:
        return self.spec.open_days()[0].strftime("%Y%m%d")

    async def _source(self) -> InMemoryMarketSource:
        if self._inner is None:
            async with self._lock:
                if self._inner is None:
                    self._inner = await asyncio.to_thread(self._build)
        return self._inner

    def _build(self) -> InMemoryMarketSource:
        market = sample_market.generate(self.spec)
        rules = sample_rules.derive(market)
        tables, stock_basic = market_frames(market, rules.daily)
        records = rule_frames(rules)
        tables["stk_limit"] = records.pop("stk_limit")
        open_days = [day.strftime("%Y%m%d") for day in market.open_days]
        return InMemoryMarketSource(tables, stock_basic, open_days, strict=True, records=records)

    async def stock_basic(self, list_status: ListStatus = "L", *, expect_rows: bool = True) -> pd.DataFrame:
        return await (await self._source()).stock_basic(list_status, expect_rows=expect_rows)

    async def trade_cal(self, exchange: str, start_date: str, end_date: str) -> pd.DataFrame:
        return await (await self._source()).trade_cal(exchange, start_date, end_date)

    async def bars(self, query: BarQuery) -> pd.DataFrame:
        return await (await self._source()).bars(query)

    async def fetch_table(self, api_name: str, params: Mapping[str, str], *, expect_rows: bool = False) -> pd.DataFrame:
        return await (await self._source()).fetch_table(api_name, params, expect_rows=expect_rows)
