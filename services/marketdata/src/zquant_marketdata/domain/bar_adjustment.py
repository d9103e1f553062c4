"""`BarRows` adjusted with their factor rows: the GetBars side of the adjustment maths in
`adjust`, with the codes whose factors are missing reported instead of guessed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from zquant_marketdata.domain import adjust as adj
from zquant_marketdata.domain.adjust import AdjustMode
from zquant_marketdata.domain.bar_rows import BarRows, reindex


@dataclass(frozen=True, slots=True)
class AdjustedRows:
    """The rows sorted by (code, day), adjusted unless a factor was missing; ``values['adj_factor']``
    is each bar's factor. `missing`: codes lacking a factor at or before some bar; `base_missing`:
    codes lacking a base factor (qfq)."""

    rows: BarRows
    missing: list[str]
    base_missing: list[str]


def adjust_rows(
    rows: BarRows,
    factors: BarRows,
    mode: AdjustMode,
    base_day: dt.date,
    round_prices: bool,
    *,
    trust_base: bool,
) -> AdjustedRows:
    """Sorts and adjusts the rows; with any code missing a factor (or, for qfq, a base factor) the
    rows come back unadjusted. `trust_base=False` counts every base as missing (the base day lies
    outside the factors read)."""
    order = np.lexsort((rows.days, rows.code_index))
    code_index = rows.code_index[order]
    days = rows.days[order]
    values = {name: column[order] for name, column in rows.values.items()}
    factor_codes = reindex(factors.codes, rows.codes)[factors.code_index]
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
        return AdjustedRows(BarRows(rows.codes, code_index, days, values), missing, base_missing)
    adjusted = adj.adjust(mode, values, multiplier, round_prices=round_prices)
    adjusted["adj_factor"] = factor
    return AdjustedRows(BarRows(rows.codes, code_index, days, adjusted), missing, base_missing)
