"""The datasets the trading rules need (price limits, suspensions, ST names, dividends, index
constituents): how each is fetched from a Tushare-shaped source and what its records hold.

Tushare's field names and units throughout: prices in CNY, `stk_div` / `stk_bo_rate` /
`stk_co_rate` in shares per share, `cash_div` / `cash_div_tax` in CNY per share (after / before
tax), `weight` in percent of the index, dates `YYYYMMDD`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FetchPlan(StrEnum):
    """How a sync asks the source for a dataset."""

    PER_OPEN_DAY = "per_open_day"
    """One whole-market call per open trade day, the day named by `date_param`."""
    PER_WINDOW = "per_window"
    """One call per window of `window_days` calendar days, bounded by start_date / end_date."""
    PER_INDEX_WINDOW = "per_index_window"
    """One call per index code and window (index_code, start_date, end_date)."""


@dataclass(frozen=True, slots=True)
class RuleDataset:
    """One dataset: its fetch plan, the column its start/end params (or per-day param) bound, its key,
    and its columns by kind. `date_columns` and `text_columns` are stored as given; the rest are floats."""

    name: str
    plan: FetchPlan
    date_param: str
    range_column: str
    keys: tuple[str, ...]
    date_columns: tuple[str, ...]
    text_columns: tuple[str, ...] = ()
    float_columns: tuple[str, ...] = ()
    window_days: int = 366

    @property
    def columns(self) -> tuple[str, ...]:
        ordered = (*self.keys, *self.date_columns, *self.text_columns, *self.float_columns)
        return tuple(dict.fromkeys(ordered))


STK_LIMIT = RuleDataset(
    "stk_limit", FetchPlan.PER_OPEN_DAY, "trade_date", "trade_date", ("ts_code", "trade_date"),
    ("trade_date",), ("ts_code",), ("pre_close", "up_limit", "down_limit"),
)  # fmt: skip
"""Daily up / down limit prices; stored like bars (packed blocks), ~5000 rows a day."""
SUSPEND_D = RuleDataset(
    "suspend_d", FetchPlan.PER_OPEN_DAY, "trade_date", "trade_date", ("ts_code", "trade_date", "suspend_type"),
    ("trade_date",), ("ts_code", "suspend_type", "suspend_timing"),
)  # fmt: skip
"""`suspend_type` S: suspended that day (whole day when `suspend_timing` is empty); R: resumed."""
NAMECHANGE = RuleDataset(
    "namechange", FetchPlan.PER_WINDOW, "", "ann_date", ("ts_code", "start_date", "name"),
    ("start_date", "end_date", "ann_date"), ("ts_code", "name", "change_reason"),
)  # fmt: skip
"""Name history; a name starting with ST or *ST marks an ST period [start_date, end_date]."""
DIVIDEND = RuleDataset(
    "dividend", FetchPlan.PER_OPEN_DAY, "ex_date", "ex_date", ("ts_code", "end_date", "ann_date", "div_proc"),
    ("end_date", "ann_date", "record_date", "ex_date", "pay_date", "div_listdate"), ("ts_code", "div_proc"),
    ("stk_div", "stk_bo_rate", "stk_co_rate", "cash_div", "cash_div_tax"),
)  # fmt: skip
"""Fetched by ex_date, so it holds the implemented (div_proc 实施) distributions the engine applies."""
INDEX_WEIGHT = RuleDataset(
    "index_weight", FetchPlan.PER_INDEX_WINDOW, "", "trade_date", ("index_code", "con_code", "trade_date"),
    ("trade_date",), ("index_code", "con_code"), ("weight",), window_days=31,
)  # fmt: skip
"""Monthly constituents and weights; a month per call stays under Tushare's 6000 rows."""

RULE_DATASETS: dict[str, RuleDataset] = {d.name: d for d in (STK_LIMIT, SUSPEND_D, NAMECHANGE, DIVIDEND, INDEX_WEIGHT)}
RECORD_DATASETS: tuple[str, ...] = ("suspend_d", "namechange", "dividend", "index_weight")
"""Kept in plain keyed tables; stk_limit goes to the bar store."""
IMPLEMENTED = "实施"
"""`div_proc` of a distribution that was carried out."""
SUSPENDED = "S"
ST_PREFIXES = ("ST", "*ST", "S*ST", "SST")


def is_st_name(name: str) -> bool:
    """ST, *ST (and S*ST, SST of the share reform era) names mark special treatment."""
    return name.strip().upper().startswith(ST_PREFIXES)

