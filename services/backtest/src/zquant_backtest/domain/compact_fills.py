"""Gather and scatter for the fill kernel on the ordered codes only. Each code's fill depends on its own bar and
order, and the codes share only the cash budget, which the kernel adds up over ordered codes in universe order; so
gathering the ordered codes (kept in order), filling them and scattering the result back gives the same fills, and
on a wide universe with a few orders a day the numpy work shrinks with the arrays."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from zquant_backtest.domain.arrays import IntArray
from zquant_backtest.domain.orders import DayBars, DayFills, Refusals

COMPACT_SHARE = 0.25
"""Fill the ordered codes alone when at most this share of the universe has an order."""

_BAR_FIELDS = tuple(item.name for item in dataclasses.fields(DayBars))
_FILL_BLANKS = {
    item.name: {"qty": 0, "price": np.nan, "base_price": np.nan}.get(item.name, 0.0)
    for item in dataclasses.fields(DayFills)
    if item.name != "refusals"
}
"""Each per-code fill column and its value for a code without an order."""


def gather_bars(bars: DayBars, active: IntArray) -> DayBars:
    columns: dict[str, Any] = {
        name: None if getattr(bars, name) is None else getattr(bars, name)[active] for name in _BAR_FIELDS
    }
    return DayBars(**columns)


def scatter_fills(few: DayFills, active: IntArray, n: int) -> DayFills:
    """The fills of the ``active`` codes back onto the whole universe of ``n`` codes."""

    def spread(name: str, blank: float) -> np.ndarray:
        values = getattr(few, name)
        full = np.full(n, blank, dtype=values.dtype)
        full[active] = values
        return full

    spread_fields: dict[str, Any] = {name: spread(name, blank) for name, blank in _FILL_BLANKS.items()}
    refused = few.refusals
    refusals = Refusals(active[refused.index], refused.reason, refused.requested, refused.remaining)
    return DayFills(**spread_fields, refusals=refusals)
