"""One trading day on the rules core, in the order both engines use: corporate actions at the open, T+1 release,
fills of yesterday's orders on today's bar, record-date entitlements, mark to market at the close."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from zquant_backtest.domain.arrays import FloatArray, IntArray
from zquant_backtest.domain.corporate_actions import DividendSchedule, carry_by_adj_factor
from zquant_backtest.domain.fills import Universe, fill_orders
from zquant_backtest.domain.ledger import Ledger, NavPoint
from zquant_backtest.domain.orders import DayBars, DayFills, FillSettings


@dataclass(frozen=True, eq=False)
class DayResult:
    fills: DayFills
    nav: NavPoint


def trade_day(
    on: date,
    orders: IntArray,
    bars: DayBars,
    universe: Universe,
    ledger: Ledger,
    settings: FillSettings,
    dividends: DividendSchedule | None = None,
    adj_ratio: FloatArray | None = None,
) -> DayResult:
    """``orders`` were decided on the previous day's data. With no dividend schedule, ``adj_ratio``
    (adj[t] / adj[t−1]) carries positions across ex-rights days instead."""
    if dividends is not None:
        dividends.open_day(ledger, on)
    elif adj_ratio is not None:
        carry_by_adj_factor(ledger, adj_ratio)
    ledger.open_day(on)
    fills = fill_orders(on, orders, bars, universe, ledger.qty, ledger.sellable, ledger.cash, settings)
    ledger.book(on, fills)
    if dividends is not None:
        dividends.close_day(ledger, on)
    return DayResult(fills=fills, nav=ledger.close_day(on, bars.close, bars.has_bar))
