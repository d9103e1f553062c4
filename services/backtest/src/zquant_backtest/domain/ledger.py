"""Cash, positions and the day cycle: open (T+1 release) → book fills → close (mark to market with that day's
holdings and prices, so the NAV curve moves every day; a suspended code keeps its last price)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, FloatArray, IntArray, zero_nan
from zquant_backtest.domain.limits import round_half_up_cents
from zquant_backtest.domain.lots import LotBook
from zquant_backtest.domain.orders import DayFills
from zquant_backtest.domain.rules import rules_on


@dataclass(frozen=True)
class NavPoint:
    on: date
    nav: float
    cash: float
    market_value: float


@dataclass(frozen=True)
class _Unlisted:
    listing: date
    index: int
    qty: int


@dataclass
class Ledger:
    """Positions over a fixed universe of ``n`` codes. ``dividend_tax`` turns on the dated dividend income tax."""

    n: int
    cash: float
    dividend_tax: bool = False
    qty: IntArray = field(init=False)
    sellable: IntArray = field(init=False)
    last_price: FloatArray = field(init=False)
    lots: LotBook = field(default_factory=LotBook)
    costs_paid: float = 0.0
    traded_value: float = 0.0
    dividend_tax_paid: float = 0.0
    _unlisted: list[_Unlisted] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.qty = np.zeros(self.n, dtype=np.int64)
        self.sellable = np.zeros(self.n, dtype=np.int64)
        self.last_price = np.full(self.n, np.nan)

    @property
    def avg_cost(self) -> FloatArray:
        basis = np.array([self.lots.cost_basis(i) for i in range(self.n)])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.qty > 0, basis / self.qty, np.nan)

    def market_value(self) -> FloatArray:
        return np.where(self.qty > 0, self.qty * zero_nan(self.last_price), 0.0)

    def open_day(self, on: date) -> None:
        """Everything held at the open is sellable (T+1), except bonus shares not yet listed."""
        self._unlisted = [u for u in self._unlisted if u.listing > on]
        self.sellable = self.qty.copy()
        for unlisted in self._unlisted:
            self.sellable[unlisted.index] -= unlisted.qty

    def book(self, on: date, fills: DayFills) -> None:
        """Apply one day's fills: cash moves by the net flows; bought shares are not sellable until tomorrow."""
        tax_rule = rules_on(on).dividend_tax if self.dividend_tax else None
        traded = fills.qty.nonzero()[0]
        shares = fills.qty[traded]
        for index, qty, flow in zip(
            traded.tolist(), shares.tolist(), fills.cash_flow[traded].tolist(), strict=True
        ):
            if qty > 0:
                self.lots.buy(index, on, qty, -flow)
            else:
                due = self.lots.sell(index, on, -qty, flow, tax_rule)
                tax = float(round_half_up_cents(np.array(due))) if tax_rule is not None else 0.0
                self.cash -= tax
                self.dividend_tax_paid += tax
        sold = shares < 0
        self.sellable[traded[sold]] += shares[sold]
        self.qty[traded] += shares
        self.last_price[traded] = fills.price[traded]
        self.cash += float(fills.cash_flow.sum())
        self.costs_paid += float(fills.costs.sum())
        self.traded_value += float(np.nansum(np.abs(fills.qty) * fills.price))

    def add_bonus(self, index: int, shares: int, listing: date) -> None:
        """Bonus / transfer shares credited on the ex date, sellable from ``listing``."""
        if shares <= 0:
            return
        self.lots.add_bonus(index, shares)
        self.qty[index] += shares
        self._unlisted.append(_Unlisted(listing, index, shares))

    def credit(self, amount: float) -> None:
        self.cash += amount

    def close_day(self, on: date, close: FloatArray, has_bar: BoolArray) -> NavPoint:
        """Mark to market at the close; a code without a bar keeps its last price."""
        self.last_price = np.where(has_bar & np.isfinite(close), close, self.last_price)
        value = float(self.market_value().sum())
        return NavPoint(on=on, nav=self.cash + value, cash=self.cash, market_value=value)
