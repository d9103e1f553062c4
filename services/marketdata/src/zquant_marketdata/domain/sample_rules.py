"""The trading-rule datasets of the sample market, so the demo exercises every rule: ST periods
(±5% limits), limit-locked one-price (一字) bars, suspensions, cash dividends with bonus shares,
daily limit prices and monthly index constituents.

Derived from a generated `SampleMarket` without drawing from its random stream, so its bars stay
what they are except the locked days, whose open, high and low move to the limit close.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from zquant_marketdata.domain.rule_datasets import IMPLEMENTED
from zquant_marketdata.domain.sample_market import SampleMarket, round2

ST_LIMIT = 0.05
ST_DAYS = 40
"""Length of each ST period, in trade days, placed where the bars already move within ±5%."""
ST_EVERY = 10
"""One stock in ten gets an ST period."""
LOCK_EVERY = 3
"""One limit close in three is a one-price bar locked at the limit."""
INDEX_CODE = "000300.SH"
DIVIDEND_TAX = 0.10
"""Withheld from cash_div_tax (before tax) to give cash_div (after tax)."""

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SampleRules:
    daily: dict[str, np.ndarray]
    stk_limit: dict[str, np.ndarray]
    suspend_d: list[Row]
    namechange: list[Row]
    dividend: list[Row]
    index_weight: list[Row]
    st_periods: list[tuple[str, dt.date, dt.date]]
    locked: list[tuple[str, dt.date]]


def _st_run(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, pre: np.ndarray
) -> int | None:
    """The first row starting ST_DAYS consecutive bars inside ±5% of their pre_close (after 60 bars)."""
    up = round2(pre * (1.0 + ST_LIMIT))
    down = np.maximum(round2(pre * (1.0 - ST_LIMIT)), 0.01)
    top = np.fmax(np.fmax(open_, high), np.fmax(low, close))
    bottom = np.fmin(np.fmin(open_, high), np.fmin(low, close))
    inside = (top <= up + 1e-9) & (bottom >= down - 1e-9)
    streak = 0
    for row in range(60, inside.size):
        streak = streak + 1 if inside[row] else 0
        if streak == ST_DAYS:
            return row - ST_DAYS + 1
    return None


def _day(value: np.datetime64) -> dt.date:
    day: dt.date = value.astype("datetime64[D]").item()
    return day


def derive(market: SampleMarket) -> SampleRules:
    daily = {name: column.copy() for name, column in market.daily.items()}
    codes, dates = daily["ts_code"], daily["trade_date"]
    board_limit = {stock.ts_code: stock.limit for stock in market.stocks}
    limits = np.array([board_limit[code] for code in codes.tolist()])
    st_periods, namechange = [], []
    for position, stock in enumerate(market.stocks):
        rows = np.flatnonzero(codes == stock.ts_code)
        first = None
        if position % ST_EVERY == 3 and rows.size:
            cols = [daily[name][rows] for name in ("open", "high", "low", "close", "pre_close")]
            first = _st_run(*cols)
        if first is None:
            namechange.append(_name(stock.ts_code, stock.name, stock.list_date, None, "上市"))
            continue
        period = rows[first : first + ST_DAYS]
        limits[period] = ST_LIMIT
        start, end = _day(dates[period[0]]), _day(dates[period[-1]])
        st_periods.append((stock.ts_code, start, end))
        namechange += [
            _name(stock.ts_code, stock.name, stock.list_date, start - dt.timedelta(days=1), "上市"),
            _name(stock.ts_code, f"ST{stock.name[:6]}", start, end, "ST"),
            _name(stock.ts_code, stock.name, end + dt.timedelta(days=1), None, "撤销ST"),
        ]
    pre = daily["pre_close"]
    up = round2(pre * (1.0 + limits))
    down = np.maximum(round2(pre * (1.0 - limits)), 0.01)
    at_limit = np.flatnonzero((np.abs(daily["close"] - up) < 1e-9) | (np.abs(daily["close"] - down) < 1e-9))
    locked_rows = at_limit[::LOCK_EVERY]
    for name in ("open", "high", "low"):
        daily[name][locked_rows] = daily["close"][locked_rows]
    stk_limit = {"ts_code": codes, "trade_date": dates, "pre_close": pre, "up_limit": up, "down_limit": down}
    suspend_d = [
        {"ts_code": code, "trade_date": day, "suspend_timing": None, "suspend_type": "S"}
        for code, days in sorted(market.suspended.items())
        for day in days
    ]
    return SampleRules(
        daily=daily,
        stk_limit=stk_limit,
        suspend_d=suspend_d,
        namechange=namechange,
        dividend=_dividends(market),
        index_weight=_index_weight(market),
        st_periods=st_periods,
        locked=[(str(codes[row]), _day(dates[row])) for row in locked_rows.tolist()],
    )


def _name(code: str, name: str, start: dt.date, end: dt.date | None, reason: str) -> Row:
    return {"ts_code": code, "name": name, "start_date": start, "end_date": end, "ann_date": start, "change_reason": reason}


def _dividends(market: SampleMarket) -> list[Row]:
    """Implemented distributions: recorded the open day before the ex date, paid (and bonus shares
    listed) on it, announced five open days earlier, for the previous year's report."""
    index = {day: position for position, day in enumerate(market.open_days)}
    rows = []
    for code, ex_date, cash, bonus in market.distributions:
        position = index[ex_date]
        cash_before_tax = round(cash, 6)
        rows.append(
            {
                "ts_code": code, "end_date": dt.date(ex_date.year - 1, 12, 31),
                "ann_date": market.open_days[max(0, position - 5)], "div_proc": IMPLEMENTED,
                "stk_div": bonus, "stk_bo_rate": bonus, "stk_co_rate": 0.0,
                "cash_div": round(cash_before_tax * (1.0 - DIVIDEND_TAX), 6), "cash_div_tax": cash_before_tax,
                "record_date": market.open_days[max(0, position - 1)], "ex_date": ex_date, "pay_date": ex_date,
                "div_listdate": ex_date if bonus else None,
            }
        )  # fmt: skip
    return rows


def _index_weight(market: SampleMarket) -> list[Row]:
    """INDEX_CODE's constituents on each month's first open day: the largest third by total_mv,
    weighted by it (percent)."""
    basic = market.daily_basic
    months = sorted({(day.year, day.month): day for day in reversed(market.open_days)}.values())
    size = max(1, len(market.stocks) // 3)
    rows = []
    for day in months:
        today = np.flatnonzero(basic["trade_date"] == np.datetime64(day, "D"))
        top = today[np.argsort(-basic["total_mv"][today], kind="stable")[:size]]
        total = float(basic["total_mv"][top].sum())
        rows += [
            {"index_code": INDEX_CODE, "con_code": str(basic["ts_code"][row]), "trade_date": day,
             "weight": round(float(basic["total_mv"][row]) / total * 100.0, 4)}
            for row in top.tolist()
        ]  # fmt: skip
    return rows
