"""GetPanel's read: bar runs scattered onto a code × date grid, then adjusted as a whole.

The inputs arrive parsed (`MarketQueries.panel`); this bounds the panel's size before and after
reading, places the values (big panels from several threads) and completes the factor grid.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zquant_kit.errors import InvalidArgument
from zquant_marketdata.application.panel_rule_fields import RuleFieldReads
from zquant_marketdata.application.query_ports import MarketQueryRepository
from zquant_marketdata.application.query_support import Offloader, fail_missing_factors, require_known
from zquant_marketdata.domain import adjust as adj
from zquant_marketdata.domain import panel as pnl
from zquant_marketdata.domain import panel_factors as pf
from zquant_marketdata.domain.adjust import AdjustMode
from zquant_marketdata.domain.panel_rules import LIMIT_FIELDS, RULE_FIELDS
from zquant_marketdata.domain.sync import CALENDAR_EXCHANGE

BAR_FIELDS = ("open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "amount")
PANEL_FIELDS = (*BAR_FIELDS, "adj_factor", *RULE_FIELDS)
DEFAULT_PANEL_FIELDS = ("open", "high", "low", "close", "vol")
SCATTER_THREADS = max(1, min(4, os.cpu_count() or 1))
"""Worker threads placing a big panel's values: one per core, up to four."""

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Panel:
    """Values per field as float64 arrays [len(codes), len(days)], NaN where a stock has no bar."""

    codes: list[str]
    days: np.ndarray
    fields: list[str]
    values: dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class PanelRequest:
    """A GetPanel call, parsed: codes empty for the whole market, fields as asked (may be empty)."""

    codes: list[str]
    start: dt.date
    end: dt.date
    mode: AdjustMode
    base_day: dt.date
    fields: Sequence[str]


def _fields(asked: Sequence[str]) -> list[str]:
    fields = list(asked) or list(DEFAULT_PANEL_FIELDS)
    for position, name in enumerate(fields):
        if name not in PANEL_FIELDS:
            raise InvalidArgument(f"fields[{position}]", f"unknown field {name!r}; any of {', '.join(PANEL_FIELDS)}")
    if len(set(fields)) != len(fields):
        raise InvalidArgument("fields", "a field is named twice")
    return fields


def _check_limits(fields: list[str], mode: AdjustMode) -> None:
    asked = [name for name in fields if name in LIMIT_FIELDS]
    if asked and mode is not AdjustMode.NONE:
        raise InvalidArgument("fields", f"{', '.join(asked)} are raw prices: ask them of an unadjusted panel")


def _bar_fields(fields: list[str], mode: AdjustMode) -> list[str]:
    """The daily columns to read: the fields asked, what adjusting change / pct_chg needs, and at
    least one column as the bar mask (where a stock traded)."""
    bar_fields = [name for name in fields if name in BAR_FIELDS]
    if mode is not AdjustMode.NONE and {"change", "pct_chg"} & set(fields):
        bar_fields += [name for name in ("close", "pre_close") if name not in bar_fields]
    return bar_fields or ["close"]


class PanelReads:
    def __init__(self, repository: MarketQueryRepository, offloader: Offloader, max_panel_values: int) -> None:
        self._repo = repository
        self._offload = offloader
        self._max_panel_values = max_panel_values
        self._rules = RuleFieldReads(repository)

    async def _check_bound(self, codes: list[str], start: dt.date, end: dt.date, field_count: int) -> None:
        weekdays = int(np.busday_count(start, end + _ONE_DAY))
        if codes:
            if len(codes) * weekdays * field_count > self._max_panel_values:
                raise InvalidArgument("ts_codes", f"the panel would exceed {self._max_panel_values} values; narrow it")
            return
        # The whole market: bound it by the listed stocks before reading anything.
        listed = await self._repo.count_stocks()
        if listed * weekdays * field_count > self._max_panel_values:
            raise InvalidArgument(
                "ts_codes",
                f"the whole market ({listed} stocks) × {weekdays} days × {field_count} fields would exceed "
                f"{self._max_panel_values} values; narrow the universe (ts_codes) or the date range",
            )

    async def read(self, request: PanelRequest) -> Panel:
        codes, start, end, mode = request.codes, request.start, request.end, request.mode
        fields = _fields(request.fields)
        _check_limits(fields, mode)
        await self._check_bound(codes, start, end, len(fields))
        bar_fields = _bar_fields(fields, mode)
        needs_factor = mode is not AdjustMode.NONE or "adj_factor" in fields
        # The database's bytes stay inside `_placed`: freed before the adjustment allocates.
        placed = await self._placed(request, len(fields), bar_fields, needs_factor)
        universe, axis, values, factor, size = placed
        multiplier = None
        if factor is not None:
            factor = await self._complete_factors(factor, values, universe, start, mode is not AdjustMode.NONE)
            if mode is not AdjustMode.NONE:
                base = await self._panel_base(factor, universe, axis, request.base_day, end)
                multiplier_of = lambda: factor / base[:, None]  # noqa: E731
                multiplier = await self._offload.run(size, multiplier_of) if mode is AdjustMode.QFQ else factor
        adjusted = await self._offload.run(size, lambda: adj.adjust(mode, values, multiplier))
        if factor is not None and "adj_factor" in fields:
            # The factor grid is not needed any more: mask it where there is no bar, in place.
            mask = adjusted[bar_fields[0]]
            adjusted["adj_factor"] = await self._offload.run(size, lambda: pnl.mask_like(factor, mask))
        adjusted.update(await self._rules.grids(fields, universe, axis, adjusted[bar_fields[0]]))
        return Panel(codes=list(universe), days=axis, fields=fields, values={name: adjusted[name] for name in fields})

    async def _placed(
        self, request: PanelRequest, field_count: int, bar_fields: list[str], needs_factor: bool
    ) -> tuple[list[str], np.ndarray, dict[str, np.ndarray], np.ndarray | None, int]:
        """(universe, date axis, bar grids, factor grid or None, rows read): the runs read and
        placed, the factor grid forward-filled."""
        codes, start, end = request.codes, request.start, request.end
        wanted = codes or None
        runs, calendar, factor_runs = await asyncio.gather(
            self._repo.read_runs("daily", wanted, start, end, bar_fields),
            self._repo.open_days(CALENDAR_EXCHANGE, start, end),
            self._factor_runs(wanted, start, end) if needs_factor else _nothing(),
        )
        present = runs.codes
        if codes:
            absent = [code for code in codes if code not in present]
            if absent:
                await require_known(self._repo, "daily", absent, "stock")
        universe = codes or sorted(present)
        size = runs.size
        axis = await self._offload.run(size, lambda: pnl.date_axis(calendar, runs.unique_days()))
        if len(universe) * axis.size * field_count > self._max_panel_values:
            raise InvalidArgument("ts_codes", f"the panel would exceed {self._max_panel_values} values; narrow it")
        values, factor = await self._grids(runs, factor_runs, universe, axis)
        return universe, axis, values, factor, size

    async def _factor_runs(self, wanted: list[str] | None, start: dt.date, end: dt.date) -> pnl.CodeRuns:
        return await self._repo.read_runs("adj_factor", wanted, start, end, ("adj_factor",))

    async def _grids(
        self, runs: pnl.CodeRuns, factor_runs: pnl.CodeRuns | None, universe: list[str], axis: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """The bar grids and the forward-filled factor grid. A big panel is placed by
        `SCATTER_THREADS` worker threads (numpy's indexed assignment runs without the GIL), each
        taking about the same number of values."""
        size = runs.size + (factor_runs.size if factor_runs is not None else 0)
        values = await self._offload.run(size, lambda: pnl.empty_grids(runs.columns, len(universe), axis.size))
        factor = None
        if factor_runs is not None:
            grids = await self._offload.run(size, lambda: pnl.empty_grids(["adj_factor"], len(universe), axis.size))
            factor = grids["adj_factor"]
        if axis.size == 0:
            return values, factor
        rows = {code: index for index, code in enumerate(universe)}
        positions = pnl.PositionTable(axis)
        targets = [values[name] for name in runs.columns]
        jobs = [(targets, part, False) for part in runs.parts]
        weights = [part.days.size * len(targets) for part in runs.parts]
        if factor is not None and factor_runs is not None:
            jobs += [([factor], part, True) for part in factor_runs.parts]
            weights += [part.days.size for part in factor_runs.parts]
        lanes = pf.balance(weights, SCATTER_THREADS if size >= self._offload.offload_rows else 1)

        def place(lane: list[int]) -> None:
            for index in lane:
                grids, part, drop = jobs[index]
                pnl.place_parts(grids, [part], rows, positions, drop_off_axis=drop)

        await asyncio.gather(*(self._offload.run(size, functools.partial(place, lane)) for lane in lanes if lane))
        if factor is not None:
            filled = factor
            factor = await self._offload.run(size, lambda: pnl.forward_fill_inplace(filled))
        return values, factor

    async def _complete_factors(
        self, factor: np.ndarray, values: dict[str, np.ndarray], universe: list[str], start: dt.date, strict: bool
    ) -> np.ndarray:
        """Fills a stock's bars before its first factor in range with its last factor before the
        range; with `strict` (adjusting) a bar still without a factor fails the call."""
        traded = ~np.isnan(next(iter(values.values())))
        lacking = pf.rows_lacking_factor(factor, traded)
        if lacking.size == 0:
            return factor
        names = [universe[i] for i in lacking.tolist()]
        earlier = await self._repo.factors_on_or_before(names, start - _ONE_DAY)
        pf.fill_leading(factor, lacking, pf.latest_factors(names, earlier))
        still = lacking[pf.rows_lacking_factor(factor[lacking], traded[lacking])]
        if strict and still.size:
            fail_missing_factors([universe[i] for i in still.tolist()], [], start)
        return factor

    async def _panel_base(
        self, factor: np.ndarray, universe: list[str], axis: np.ndarray, base_day: dt.date, end: dt.date
    ) -> np.ndarray:
        base = pf.base_on_axis(factor, axis, base_day, end)
        lacking = np.flatnonzero(np.isnan(base))
        if lacking.size:
            names = [universe[i] for i in lacking.tolist()]
            base[lacking] = pf.latest_factors(names, await self._repo.factors_on_or_before(names, base_day))
            still = lacking[np.isnan(base[lacking]) & pf.traded_rows(factor, lacking)]
            if still.size:
                fail_missing_factors([], [universe[i] for i in still.tolist()], base_day)
        return base


async def _nothing() -> None:
    return None
