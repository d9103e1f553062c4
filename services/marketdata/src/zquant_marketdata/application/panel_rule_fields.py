"""GetPanel's trading-rule fields on the panel's grid: up_limit / down_limit from stk_limit,
is_st from namechange periods, is_suspended from suspend_d or a missing bar on an open day, and
list_days counted on the trade calendar from list_date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from zquant_marketdata.application.query_ports import MarketQueryRepository
from zquant_marketdata.domain import panel as pnl
from zquant_marketdata.domain import panel_rules as rules
from zquant_marketdata.domain.sync import CALENDAR_EXCHANGE


def _date(day: np.datetime64) -> dt.date:
    value: dt.date = day.astype("datetime64[D]").item()
    return value


class RuleFieldReads:
    def __init__(self, repository: MarketQueryRepository) -> None:
        self._repo = repository

    async def grids(
        self, fields: Sequence[str], universe: list[str], axis: np.ndarray, bar_mask: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The asked rule fields as [len(universe), len(axis)] float64 grids; `bar_mask` is NaN where
        a stock has no bar."""
        wanted = [name for name in fields if name in rules.RULE_FIELDS]
        shape = (len(universe), axis.size)
        if not wanted:
            return {}
        if axis.size == 0 or not universe:
            return {name: np.full(shape, np.nan) for name in wanted}
        start, end = _date(axis[0]), _date(axis[-1])
        grids: dict[str, np.ndarray] = {}
        if set(rules.LIMIT_FIELDS) & set(wanted):
            grids.update(await self._limits(universe, axis, start, end))
        known = await self._repo.stock_lives(universe)
        lives = [known.get(code, (None, None)) for code in universe]
        listed = rules.listed_mask(axis, lives)
        if "is_st" in wanted:
            spans = await self._repo.name_spans(universe, start, end)
            grids["is_st"] = rules.as_flags(rules.st_marks(axis, universe, spans), listed)
        if "is_suspended" in wanted:
            suspended = await self._repo.suspended_days(universe, start, end)
            grids["is_suspended"] = rules.as_flags(rules.suspended_marks(axis, universe, suspended, bar_mask), listed)
        if "list_days" in wanted:
            firsts = [life[0] for life in lives if life[0] is not None]
            calendar = await self._repo.open_days(CALENDAR_EXCHANGE, min(firsts, default=start), end)
            counts = rules.list_days(axis, lives, calendar)
            counts[~listed] = np.nan
            grids["list_days"] = counts
        return {name: grids[name] for name in wanted}

    async def _limits(self, universe: list[str], axis: np.ndarray, start: dt.date, end: dt.date) -> dict[str, np.ndarray]:
        runs = await self._repo.read_runs("stk_limit", universe, start, end, rules.LIMIT_FIELDS)
        grids = pnl.empty_grids(rules.LIMIT_FIELDS, len(universe), axis.size)
        rows = {code: index for index, code in enumerate(universe)}
        targets = [grids[name] for name in rules.LIMIT_FIELDS]
        pnl.place_parts(targets, runs.parts, rows, pnl.PositionTable(axis), drop_off_axis=True)
        return grids
