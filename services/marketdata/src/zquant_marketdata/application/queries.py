"""Read-side use cases: stocks, calendar, (adjusted) bars, index bars, daily basics and panels.

Permission checks live in the gRPC adapter (every RPC calls `principal.require("data:read")`
first); this layer validates requests and does the adjustment maths on numpy columns.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import numpy as np

from zquant_kit.errors import FailedPrecondition, InvalidArgument, NotFound, found, required
from zquant_kit.limits import HeavyReadBounds, HeavyReadLimiter
from zquant_kit.pagination import Page, fetch_page
from zquant_kit.text import check_text
from zquant_marketdata.application.query_ports import (
    BarRows,
    MarketQueryRepository,
    Stock,
    StockFilter,
    TradeDay,
)
from zquant_marketdata.domain import adjust as adj
from zquant_marketdata.domain import panel as pnl
from zquant_marketdata.domain import sync as dates
from zquant_marketdata.domain.adjust import AdjustMode

BAR_FIELDS = ("open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "amount")
PANEL_FIELDS = (*BAR_FIELDS, "adj_factor")
DEFAULT_PANEL_FIELDS = ("open", "high", "low", "close", "vol")
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
SCATTER_THREADS = max(1, min(4, os.cpu_count() or 1))
"""Worker threads placing a big panel's values: one per core, up to four."""
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


@dataclass(frozen=True, slots=True)
class Panel:
    """Values per field as float64 arrays [len(codes), len(days)], NaN where a stock has no bar."""

    codes: list[str]
    days: np.ndarray
    fields: list[str]
    values: dict[str, np.ndarray]


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
        self._max_panel_values = max_panel_values
        self._offload_rows = offload_rows
        self.limiter = limiter or HeavyReadLimiter(HeavyReadBounds.defaults())
        self._heavy_bars = heavy_bars

    def heavy_read(self, what: str) -> contextlib.AbstractAsyncContextManager[None]:
        """A slot of the process's heavy-read limiter; GetPanel holds one while it reads and streams
        (RESOURCE_EXHAUSTED with a retry hint when none comes free in time)."""
        return self.limiter.slot(what)

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

    async def _require_known(self, dataset: str, codes: list[str], resource: str, rows: BarRows | None = None) -> None:
        """NOT_FOUND naming the codes the store has never heard of; a code with rows is known."""
        if rows is not None:
            present = set(rows.codes)
            codes = [code for code in codes if code not in present]
            if not codes:
                return
        unknown = await self._repo.unknown_codes(dataset, codes)
        if unknown:
            raise NotFound(resource, ", ".join(unknown))

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
        await self._require_known("daily", codes, "stock", rows)
        if rows.size == 0:
            return rows
        adjust_rows = lambda factor_rows, first_pass: self._adjust_rows(  # noqa: E731
            rows, factor_rows, mode, base_day, round_prices, trust_base=not first_pass or base_day <= end
        )
        result, missing, base_missing = await self._run(rows.size, lambda: adjust_rows(factors, True))
        if missing or base_missing:
            # Codes whose first bars precede their first factor in the range, or whose base factor
            # lies outside it: add each one's latest factor before that point, then redo.
            parts = [factors]
            if missing:
                parts.append(await self._repo.factors_on_or_before(missing, start - _ONE_DAY))
            if base_missing:
                parts.append(await self._repo.factors_on_or_before(base_missing, base_day))
            merged = _concat_rows(parts)
            result, missing, base_missing = await self._run(rows.size, lambda: adjust_rows(merged, False))
            if mode is not AdjustMode.NONE and (missing or base_missing):
                self._fail_missing_factors(missing, base_missing, base_day)
        return result

    def _adjust_rows(
        self,
        rows: BarRows,
        factors: BarRows,
        mode: AdjustMode,
        base_day: dt.date,
        round_prices: bool,
        *,
        trust_base: bool,
    ) -> tuple[BarRows, list[str], list[str]]:
        """Sorts and adjusts the rows; returns them with the codes lacking a factor for some bar
        and those lacking a base factor (then the rows are returned unadjusted)."""
        order = np.lexsort((rows.days, rows.code_index))
        code_index = rows.code_index[order]
        days = rows.days[order]
        values = {name: column[order] for name, column in rows.values.items()}
        factor_codes = _reindex(factors.codes, rows.codes)[factors.code_index]
        factor_values = factors.values.get("adj_factor", np.empty(0))
        factor = adj.asof_factors(code_index, days, factor_codes, factors.days, factor_values)
        present = np.unique(code_index)
        missing = [rows.codes[i] for i in np.unique(code_index[np.isnan(factor)]).tolist()]
        base_missing: list[str] = []
        multiplier = None
        if mode is AdjustMode.QFQ:
            base = np.full(len(rows.codes), np.nan)
            base_days = np.full(present.size, np.datetime64(base_day, "D"))
            base[present] = adj.asof_factors(present, base_days, factor_codes, factors.days, factor_values)
            lacking = present[np.isnan(base[present])] if trust_base else present
            base_missing = [rows.codes[i] for i in lacking.tolist()]
            if not base_missing and not missing:
                multiplier = adj.scale(mode, factor, base[code_index])
        elif mode is AdjustMode.HFQ and not missing:
            multiplier = adj.scale(mode, factor)
        if mode is not AdjustMode.NONE and multiplier is None:
            values["adj_factor"] = factor
            return BarRows(rows.codes, code_index, days, values), missing, base_missing
        adjusted = adj.adjust(mode, values, multiplier, round_prices=round_prices)
        adjusted["adj_factor"] = factor
        return BarRows(rows.codes, code_index, days, adjusted), missing, base_missing

    @staticmethod
    def _fail_missing_factors(missing: list[str], base_missing: list[str], base_day: dt.date) -> None:
        if missing:
            raise FailedPrecondition(
                f"no adj_factor at or before some bars of {', '.join(missing)}; sync adj_factor first",
                reason="ADJ_FACTOR_MISSING",
            )
        raise FailedPrecondition(
            f"no adj_factor on or before the base date {format_date(base_day)} for {', '.join(base_missing)}",
            reason="ADJ_FACTOR_MISSING",
        )

    async def index_bars(self, ts_code: str, start_date: str, end_date: str) -> BarRows:
        code = check_text(ts_code.strip().upper(), "ts_code", max_length=MAX_CODE_LENGTH)
        if not code:
            raise InvalidArgument("ts_code", "required")
        start, end = _range(start_date, end_date)
        await self._check_size("index_daily", [code], start, end)
        rows = await self._repo.read_rows("index_daily", [code], start, end, INDEX_FIELDS)
        await self._require_known("index_daily", [code], "index", rows)
        return _sorted(rows)

    async def daily_basic(self, ts_codes: Sequence[str], start_date: str, end_date: str) -> BarRows:
        codes = _codes(ts_codes, required=True)
        start, end = _range(start_date, end_date)
        await self._check_size("daily_basic", codes, start, end)
        async with self._slot_if_heavy("GetDailyBasic", codes, start, end):
            rows = await self._repo.read_rows("daily_basic", codes, start, end, DAILY_BASIC_FIELDS)
        await self._require_known("daily_basic", codes, "stock", rows)
        return _sorted(rows)

    # -- panel ------------------------------------------------------------------------------

    async def panel(self, query: PanelQuery) -> Panel:
        codes = _codes(query.ts_codes, required=False)
        start, end = _range(query.start_date, query.end_date)
        mode = _adjust_mode(query.adjust)
        base_day = parse_date("adjust_base_date", query.adjust_base_date, required=False) or end
        fields = list(query.fields) or list(DEFAULT_PANEL_FIELDS)
        for position, name in enumerate(fields):
            if name not in PANEL_FIELDS:
                raise InvalidArgument(f"fields[{position}]", f"unknown field {name!r}; any of {', '.join(PANEL_FIELDS)}")
        if len(set(fields)) != len(fields):
            raise InvalidArgument("fields", "a field is named twice")
        weekdays = int(np.busday_count(start, end + _ONE_DAY))
        if codes:
            if len(codes) * weekdays * len(fields) > self._max_panel_values:
                raise InvalidArgument("ts_codes", f"the panel would exceed {self._max_panel_values} values; narrow it")
        else:
            # The whole market: bound it by the listed stocks before reading anything.
            listed = await self._repo.count_stocks()
            if listed * weekdays * len(fields) > self._max_panel_values:
                raise InvalidArgument(
                    "ts_codes",
                    f"the whole market ({listed} stocks) × {weekdays} days × {len(fields)} fields would exceed "
                    f"{self._max_panel_values} values; narrow the universe (ts_codes) or the date range",
                )

        bar_fields = [name for name in fields if name in BAR_FIELDS]
        if mode is not AdjustMode.NONE and {"change", "pct_chg"} & set(fields):
            bar_fields += [name for name in ("close", "pre_close") if name not in bar_fields]
        if not bar_fields:
            bar_fields = ["close"]  # the bar mask: where a stock traded
        needs_factor = mode is not AdjustMode.NONE or "adj_factor" in fields
        wanted = codes or None
        reads = [
            self._repo.read_runs("daily", wanted, start, end, bar_fields),
            self._repo.open_days(CALENDAR_EXCHANGE, start, end),
        ]
        if needs_factor:
            reads.append(self._repo.read_runs("adj_factor", wanted, start, end, ("adj_factor",)))
        runs, calendar, *rest = await asyncio.gather(*reads)
        factor_runs = rest[0] if rest else None
        present = set(runs.codes)
        if codes:
            absent = [code for code in codes if code not in present]
            if absent:
                await self._require_known("daily", absent, "stock")
        universe = codes or sorted(present)
        size = runs.size
        axis = await self._run(size, lambda: pnl.date_axis(calendar, runs.unique_days()))
        if len(universe) * axis.size * len(fields) > self._max_panel_values:
            raise InvalidArgument("ts_codes", f"the panel would exceed {self._max_panel_values} values; narrow it")

        values, factor = await self._grids(runs, factor_runs, universe, axis)
        runs = factor_runs = None  # the database's bytes: free them before the adjustment allocates
        if needs_factor:
            factor = await self._complete_factors(factor, values, universe, start, mode is not AdjustMode.NONE)
        multiplier = None
        if mode is not AdjustMode.NONE:
            base = await self._panel_base(factor, universe, axis, base_day, end)
            multiplier_of = lambda: factor / base[:, None]  # noqa: E731
            multiplier = await self._run(size, multiplier_of) if mode is AdjustMode.QFQ else factor
        adjusted = await self._run(size, lambda: adj.adjust(mode, values, multiplier))
        if "adj_factor" in fields:
            # The factor grid is not needed any more: mask it where there is no bar, in place.
            adjusted["adj_factor"] = await self._run(size, lambda: pnl.mask_like(factor, adjusted[bar_fields[0]]))
        return Panel(codes=list(universe), days=axis, fields=fields, values={name: adjusted[name] for name in fields})

    async def _grids(
        self, runs: pnl.CodeRuns, factor_runs: pnl.CodeRuns | None, universe: list[str], axis: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """The bar grids and the forward-filled factor grid. A big panel is placed by
        `SCATTER_THREADS` worker threads (numpy's indexed assignment runs without the GIL), each
        taking about the same number of values."""
        size = runs.size + (factor_runs.size if factor_runs is not None else 0)
        values = await self._run(size, lambda: pnl.empty_grids(runs.columns, len(universe), axis.size))
        factor = None
        if factor_runs is not None:
            factor = (await self._run(size, lambda: pnl.empty_grids(["adj_factor"], len(universe), axis.size)))[
                "adj_factor"
            ]
        if axis.size == 0:
            return values, factor
        rows = {code: index for index, code in enumerate(universe)}
        positions = pnl.PositionTable(axis)
        targets = [values[name] for name in runs.columns]
        work = [(part.days.size * len(targets), targets, part, False) for part in runs.parts]
        if factor_runs is not None:
            work += [(part.days.size, [factor], part, True) for part in factor_runs.parts]
        lanes: list[list] = [[] for _ in range(SCATTER_THREADS if size >= self._offload_rows else 1)]
        loads = [0] * len(lanes)
        for weight, *job in sorted(work, key=lambda item: -item[0]):
            lane = loads.index(min(loads))
            lanes[lane].append(job)
            loads[lane] += weight

        def place(jobs) -> None:
            for grids, part, drop in jobs:
                pnl.place_parts(grids, [part], rows, positions, drop_off_axis=drop)

        await asyncio.gather(*(self._run(size, lambda jobs=jobs: place(jobs)) for jobs in lanes if jobs))
        if factor is not None:
            factor = await self._run(size, lambda: pnl.forward_fill_inplace(factor))
        return values, factor

    async def _complete_factors(
        self, factor: np.ndarray, values: dict[str, np.ndarray], universe: list[str], start: dt.date, strict: bool
    ) -> np.ndarray:
        """Fills a stock's bars before its first factor in range with its last factor before the
        range; with `strict` (adjusting) a bar still without a factor fails the call."""
        traded = ~np.isnan(next(iter(values.values())))
        lacking = np.flatnonzero((traded & np.isnan(factor)).any(axis=1))
        if lacking.size == 0:
            return factor
        names = [universe[i] for i in lacking.tolist()]
        earlier = await self._repo.factors_on_or_before(names, start - _ONE_DAY)
        prior = np.full(lacking.size, np.nan)
        if earlier.size:
            prior[_reindex(earlier.codes, names)[earlier.code_index]] = earlier.values["adj_factor"]
        sub = factor[lacking]
        factor[lacking] = np.where(np.isnan(sub), prior[:, None], sub)
        still = lacking[(traded[lacking] & np.isnan(factor[lacking])).any(axis=1)]
        if strict and still.size:
            self._fail_missing_factors([universe[i] for i in still.tolist()], [], start)
        return factor

    async def _panel_base(
        self, factor: np.ndarray, universe: list[str], axis: np.ndarray, base_day: dt.date, end: dt.date
    ) -> np.ndarray:
        base = np.full(len(universe), np.nan)
        position = int(np.searchsorted(axis, np.datetime64(base_day, "D"), side="right")) - 1
        if base_day <= end and position >= 0:
            base = factor[:, position].copy()
        lacking = np.flatnonzero(np.isnan(base))
        if lacking.size:
            names = [universe[i] for i in lacking.tolist()]
            found = await self._repo.factors_on_or_before(names, base_day)
            if found.size:
                base[lacking[_reindex(found.codes, names)[found.code_index]]] = found.values["adj_factor"]
            # A stock without any bar in the range needs no base.
            traded = ~np.isnan(factor[lacking]).all(axis=1)
            still = lacking[np.isnan(base[lacking]) & traded]
            if still.size:
                self._fail_missing_factors([], [universe[i] for i in still.tolist()], base_day)
        return base

    async def _run(self, rows: int, work):
        if rows >= self._offload_rows:
            return await asyncio.to_thread(work)
        return work()


def _reindex(codes: list[str], target: Sequence[str]) -> np.ndarray:
    """Position in `target` of each of `codes` (-1 when absent)."""
    where = {code: position for position, code in enumerate(target)}
    return np.fromiter((where.get(code, -1) for code in codes), dtype=np.int64, count=len(codes))


def _sorted(rows: BarRows) -> BarRows:
    order = np.lexsort((rows.days, rows.code_index))
    return BarRows(
        rows.codes, rows.code_index[order], rows.days[order], {k: v[order] for k, v in rows.values.items()}
    )


def _concat_rows(parts: list[BarRows]) -> BarRows:
    codes = sorted({code for part in parts for code in part.codes})
    return BarRows(
        codes=codes,
        code_index=np.concatenate(
            [_reindex(part.codes, codes)[part.code_index] for part in parts if part.size] or [np.empty(0, np.int64)]
        ),
        days=np.concatenate([part.days for part in parts if part.size] or [np.empty(0, "datetime64[D]")]),
        values={
            name: np.concatenate([part.values[name] for part in parts if part.size] or [np.empty(0)])
            for name in parts[0].values
        },
    )
