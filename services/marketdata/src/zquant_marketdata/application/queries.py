"""Read-side use cases: stocks, calendar, (adjusted) bars, index bars, daily basics and panels.

Permission checks live in the gRPC adapter (every RPC calls `principal.require("data:read")`
first); this layer validates requests and does the adjustment maths on numpy columns.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from zquant_kit.errors import InvalidArgument, found, required
from zquant_kit.limits import HeavyReadBounds, HeavyReadLimiter
from zquant_kit.pagination import Page, fetch_page
from zquant_kit.text import check_text
from zquant_marketdata.application.panel_query import BAR_FIELDS, Panel, PanelReads, PanelRequest
from zquant_marketdata.application.query_ports import (
    MarketQueryRepository,
    Stock,
    StockFilter,
    TradeDay,
)
from zquant_marketdata.application.query_support import Offloader, fail_missing_factors, require_known
from zquant_marketdata.domain import sync as dates
from zquant_marketdata.domain.adjust import AdjustMode
from zquant_marketdata.domain.bar_adjustment import AdjustedRows, adjust_rows
from zquant_marketdata.domain.bar_rows import BarRows, concat_rows

INDEX_FIELDS = ("open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "amount")
DAILY_BASIC_FIELDS = ("turnover_rate", "total_mv", "pe", "pb", "circ_mv")
EXCHANGES = frozenset({"SSE", "SZSE", "BSE", "CFFEX", "SHFE", "CZCE", "DCE", "INE"})
LIST_STATUSES = frozenset({"L", "D", "P"})
CALENDAR_EXCHANGE = dates.CALENDAR_EXCHANGE
MAX_BARS = 500_000
MAX_CODE_LENGTH = 16
"""Longest ts_code accepted for one security (`600000.SH` is 9); longer is garbage, refused before SQL."""
MAX_PANEL_VALUES = 200_000_000
OFFLOAD_ROWS = 100_000
"""Row count above which numpy work runs in a worker thread instead of on the event loop."""
HEAVY_BARS = 50_000
"""Estimated bars (codes × weekdays) from which a GetBars-like read takes a heavy-read slot."""

_ONE_DAY = dt.timedelta(days=1)


def parse_date(field: str, value: str, *, required: bool = True) -> dt.date | None:
    """A Tushare-style ``YYYYMMDD`` string; INVALID_ARGUMENT naming the field otherwise."""
    day = dates.parse_date(value, field)
    if day is None and required:
        raise InvalidArgument(field, "required, as YYYYMMDD")
    return day


format_date = dates.fmt_date


def _range(start: str, end: str) -> tuple[dt.date, dt.date]:
    first = parse_date("start_date", start)
    last = parse_date("end_date", end)
    assert first is not None and last is not None  # required dates: parse_date raised otherwise
    dates.check_range(first, last)
    return first, last


def _codes(values: Sequence[str], *, required: bool) -> list[str]:
    """Trimmed, upper-cased, de-duplicated codes in request order."""
    codes: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(values):
        code = raw.strip().upper()
        if not code:
            raise InvalidArgument(f"ts_codes[{position}]", "empty code")
        if code not in seen:
            seen.add(code)
            codes.append(code)
    if required and not codes:
        raise InvalidArgument("ts_codes", "name at least one ts_code")
    return codes


def _adjust_mode(value: str) -> AdjustMode:
    try:
        return AdjustMode(value)
    except ValueError:
        raise InvalidArgument("adjust", f"unknown adjustment {value!r}") from None


@dataclass(frozen=True, slots=True)
class BarsQuery:
    ts_codes: Sequence[str]
    start_date: str
    end_date: str
    adjust: str = "none"
    adjust_base_date: str = ""
    round_prices: bool = False


@dataclass(frozen=True, slots=True)
class PanelQuery:
    ts_codes: Sequence[str]
    start_date: str
    end_date: str
    fields: Sequence[str] = ()
    adjust: str = "none"
    adjust_base_date: str = ""


class MarketQueries:
    def __init__(
        self,
        repository: MarketQueryRepository,
        *,
        max_bars: int = MAX_BARS,
        max_panel_values: int = MAX_PANEL_VALUES,
        offload_rows: int = OFFLOAD_ROWS,
        limiter: HeavyReadLimiter | None = None,
        heavy_bars: int = HEAVY_BARS,
    ) -> None:
        self._repo = repository
        self.max_bars = max_bars
        self._offload = Offloader(offload_rows)
        self._panels = PanelReads(repository, self._offload, max_panel_values)
        self.limiter = limiter or HeavyReadLimiter(HeavyReadBounds.defaults())
        self._heavy_bars = heavy_bars

    def heavy_read(self, what: str) -> contextlib.AbstractAsyncContextManager[None]:
        """A slot of the process's heavy-read limiter; GetPanel holds one while it reads and streams
        (RESOURCE_EXHAUSTED with a retry hint when none comes free in time)."""
        slot: contextlib.AbstractAsyncContextManager[None] = self.limiter.slot(what)
        return slot

    @contextlib.asynccontextmanager
    async def _slot_if_heavy(self, what: str, codes: list[str], start: dt.date, end: dt.date) -> AsyncIterator[None]:
        if len(codes) * int(np.busday_count(start, end + _ONE_DAY)) < self._heavy_bars:
            yield
            return
        async with self.limiter.slot(what):
            yield

    # -- reference data ---------------------------------------------------------------------

    async def list_stocks(self, filter: StockFilter, after: str | None, limit: int) -> Page[Stock]:
        if filter.list_status and filter.list_status not in LIST_STATUSES:
            raise InvalidArgument("list_status", f"{filter.list_status!r} is not one of L, D, P (or empty for all)")
        return await fetch_page(lambda n: self._repo.list_stocks(filter, after, n), limit)

    async def get_stock(self, ts_code: str) -> Stock:
        code = check_text(ts_code.strip().upper(), "ts_code", max_length=MAX_CODE_LENGTH)
        return found(await self._repo.get_stock(required(code, "ts_code")), "stock", code)

    async def trade_calendar(self, exchange: str, start: str, end: str, open_only: bool) -> list[TradeDay]:
        exchange = (exchange or CALENDAR_EXCHANGE).upper()
        if exchange not in EXCHANGES:
            raise InvalidArgument("exchange", f"{exchange!r} is not one of {sorted(EXCHANGES)}")
        first = parse_date("start_date", start, required=False) or dt.date(1900, 1, 1)
        last = parse_date("end_date", end, required=False) or dt.date(2999, 12, 31)
        dates.check_range(first, last)
        return await self._repo.trade_calendar(exchange, first, last, open_only)

    # -- bars -------------------------------------------------------------------------------

    async def _check_size(self, dataset: str, codes: list[str], start: dt.date, end: dt.date) -> None:
        # A-shares never trade on weekends, so codes × weekdays bounds the rows without a query.
        weekdays = int(np.busday_count(start, end + _ONE_DAY))
        if len(codes) * weekdays <= self.max_bars:
            return
        rows = await self._repo.count_rows(dataset, codes, start, end)
        if rows > self.max_bars:
            raise InvalidArgument(
                "ts_codes",
                f"{rows} bars exceed the limit of {self.max_bars} per call; "
                "narrow ts_codes or the date range, or use GetPanel",
            )

    async def bars(self, query: BarsQuery) -> BarRows:
        """Daily bars sorted by (ts_code, trade_date), adjusted as asked; ``values['adj_factor']``
        is the factor each bar was adjusted with (the stock's last known one when its own is missing)."""
        codes = _codes(query.ts_codes, required=True)
        start, end = _range(query.start_date, query.end_date)
        mode = _adjust_mode(query.adjust)
        base_day = parse_date("adjust_base_date", query.adjust_base_date, required=False) or end
        await self._check_size("daily", codes, start, end)
        async with self._slot_if_heavy("GetBars", codes, start, end):
            return await self._bars(codes, start, end, mode, base_day, query.round_prices)

    async def _bars(
        self, codes: list[str], start: dt.date, end: dt.date, mode: AdjustMode, base_day: dt.date, round_prices: bool
    ) -> BarRows:
        rows, factors = await asyncio.gather(
            self._repo.read_rows("daily", codes, start, end, BAR_FIELDS),
            self._repo.read_rows("adj_factor", codes, start, end, ("adj_factor",)),
        )
        await require_known(self._repo, "daily", codes, "stock", rows)
        if rows.size == 0:
            return rows
        def adjusted(factor_rows: BarRows, first_pass: bool) -> Callable[[], AdjustedRows]:
            trust_base = not first_pass or base_day <= end
            return lambda: adjust_rows(rows, factor_rows, mode, base_day, round_prices, trust_base=trust_base)

        result = await self._offload.run(rows.size, adjusted(factors, True))
        if result.missing or result.base_missing:
            # Codes whose first bars precede their first factor in the range, or whose base factor
            # lies outside it: add each one's latest factor before that point, then redo.
            parts = [factors]
            if result.missing:
                parts.append(await self._repo.factors_on_or_before(result.missing, start - _ONE_DAY))
            if result.base_missing:
                parts.append(await self._repo.factors_on_or_before(result.base_missing, base_day))
            result = await self._offload.run(rows.size, adjusted(concat_rows(parts), False))
            if mode is not AdjustMode.NONE and (result.missing or result.base_missing):
                fail_missing_factors(result.missing, result.base_missing, base_day)
        return result.rows

    async def index_bars(self, ts_code: str, start_date: str, end_date: str) -> BarRows:
        code = check_text(ts_code.strip().upper(), "ts_code", max_length=MAX_CODE_LENGTH)
        if not code:
            raise InvalidArgument("ts_code", "required")
        start, end = _range(start_date, end_date)
        await self._check_size("index_daily", [code], start, end)
        rows = await self._repo.read_rows("index_daily", [code], start, end, INDEX_FIELDS)
        await require_known(self._repo, "index_daily", [code], "index", rows)
        return rows.sorted()

    async def daily_basic(self, ts_codes: Sequence[str], start_date: str, end_date: str) -> BarRows:
        codes = _codes(ts_codes, required=True)
        start, end = _range(start_date, end_date)
        await self._check_size("daily_basic", codes, start, end)
        async with self._slot_if_heavy("GetDailyBasic", codes, start, end):
            rows = await self._repo.read_rows("daily_basic", codes, start, end, DAILY_BASIC_FIELDS)
        await require_known(self._repo, "daily_basic", codes, "stock", rows)
        return rows.sorted()

    # -- panel ------------------------------------------------------------------------------

    async def panel(self, query: PanelQuery) -> Panel:
        codes = _codes(query.ts_codes, required=False)
        start, end = _range(query.start_date, query.end_date)
        mode = _adjust_mode(query.adjust)
        base_day = parse_date("adjust_base_date", query.adjust_base_date, required=False) or end
        return await self._panels.read(PanelRequest(codes, start, end, mode, base_day, query.fields))
