"""The fill kernel on the codes with an order only. Each code's fill depends on its own bar and order, and the
codes share only the cash budget, which the kernel adds up over ordered codes in universe order; so gathering the
ordered codes (kept in order), filling them and scattering the result back gives the same fills, and on a wide
universe with a few orders a day the numpy work shrinks with the arrays."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import numpy as np

from zquant_backtest.domain.arrays import IntArray
from zquant_backtest.domain.fills import Universe, fill_orders
from zquant_backtest.domain.orders import DayBars, DayFills, FillSettings, Refusals

_WORTH_IT = 0.25
"""Compact when at most this share of the universe has an order."""


def fill_ordered_codes(
    on: date,
    orders: IntArray,
    bars: DayBars,
    universe: Universe,
    total_qty: IntArray,
    sellable_qty: IntArray,
    cash: float,
    settings: FillSettings,
) -> DayFills:
    """``fills.fill_orders`` with the same arguments and the same result."""
    active = np.flatnonzero(orders)
    if active.size == 0 or active.size > _WORTH_IT * orders.size:
        return fill_orders(on, orders, bars, universe, total_qty, sellable_qty, cash, settings)
    columns: dict[str, Any] = {
        item.name: None if getattr(bars, item.name) is None else getattr(bars, item.name)[active]
        for item in dataclasses.fields(DayBars)
    }
    picked = DayBars(**columns)
    few = fill_orders(
        on,
        orders[active],
        picked,
        Universe(universe.boards[active], universe.exchanges[active]),
        total_qty[active],
        sellable_qty[active],
        cash,
        settings,
    )
    return _scatter(few, active, orders.size)


def _scatter(few: DayFills, active: IntArray, n: int) -> DayFills:
    def spread(name: str, blank: float) -> np.ndarray:
        values = getattr(few, name)
        full = np.full(n, blank, dtype=values.dtype)
        full[active] = values
        return full

    blanks = {"qty": 0, "price": np.nan, "base_price": np.nan}
    spread_fields: dict[str, Any] = {
        item.name: spread(item.name, blanks.get(item.name, 0.0))
        for item in dataclasses.fields(DayFills)
        if item.name != "refusals"
    }
    refused = few.refusals
    refusals = Refusals(active[refused.index], refused.reason, refused.requested, refused.remaining)
    return DayFills(**spread_fields, refusals=refusals)
