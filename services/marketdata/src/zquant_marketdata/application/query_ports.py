"""Outbound port of the read side: reference data and bar rows as numpy columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from zquant_marketdata.domain.bar_rows import BarRows
from zquant_marketdata.domain.panel import CodeRuns


@dataclass(frozen=True, slots=True)
class Stock:
    ts_code: str
    symbol: str
    name: str
    industry: str | None
    market: str | None
    exchange: str | None
    list_status: str
    list_date: date | None
    delist_date: date | None


@dataclass(frozen=True, slots=True)
class StockFilter:
    exchange: str = ""
    market: str = ""
    industry: str = ""
    list_status: str = ""
    query: str = ""


@dataclass(frozen=True, slots=True)
class TradeDay:
    cal_date: date
    is_open: bool
    pretrade_date: date | None


class RuleFieldRepository(Protocol):
    """What GetPanel's trading-rule fields read besides bar runs."""

    async def stock_lives(self, ts_codes: Sequence[str]) -> dict[str, tuple[date | None, date | None]]:
        """(list_date, delist_date) per code that stock_basic knows."""
        ...

    async def suspended_days(self, ts_codes: Sequence[str], start: date, end: date) -> list[tuple[str, date]]:
        """(ts_code, trade_date) of suspend_d's suspension rows (suspend_type S) in [start, end]."""
        ...

    async def name_spans(self, ts_codes: Sequence[str], start: date, end: date) -> list[tuple[str, date, date | None, str]]:
        """namechange rows (ts_code, start_date, end_date, name) whose period overlaps [start, end]."""
        ...


class MarketQueryRepository(RuleFieldRepository, Protocol):
    async def list_stocks(self, filter: StockFilter, after: str | None, limit: int) -> list[Stock]:
        """Up to `limit` stocks with ts_code > after, ordered by ts_code."""
        ...

    async def get_stock(self, ts_code: str) -> Stock | None: ...

    async def unknown_codes(self, dataset: str, ts_codes: Sequence[str]) -> list[str]:
        """Those of the codes the store has never heard of: not in stock_basic and without a row
        in the dataset (index codes live only in index_daily)."""
        ...

    async def trade_calendar(self, exchange: str, start: date, end: date, open_only: bool) -> list[TradeDay]: ...

    async def open_days(self, exchange: str, start: date, end: date) -> np.ndarray:
        """Open days of the exchange's calendar in [start, end], datetime64[D], sorted."""
        ...

    async def count_rows(self, dataset: str, ts_codes: Sequence[str], start: date, end: date) -> int: ...

    async def read_rows(
        self, dataset: str, ts_codes: Sequence[str] | None, start: date, end: date, columns: Sequence[str]
    ) -> BarRows:
        """The dataset's rows with trade_date in [start, end] for those codes (None: every code)."""
        ...

    async def read_runs(
        self, dataset: str, ts_codes: Sequence[str] | None, start: date, end: date, columns: Sequence[str]
    ) -> CodeRuns:
        """`read_rows` grouped per code (GetPanel's path), so values can land in the panel without a
        row-sized intermediate."""
        ...

    async def count_stocks(self) -> int:
        """Rows of stock_basic: bounds a whole-market panel before anything is read."""
        ...

    async def factors_on_or_before(self, ts_codes: Sequence[str], day: date) -> BarRows:
        """Per code, its latest adj_factor row with trade_date ≤ day (codes without one are absent)."""
        ...

