"""FIFO tax lots per code: average cost, the holding period the dividend tax needs, and closed round trips.

Fills are sparse (a few per day), so the book is plain Python; the per-universe arrays live in ``ledger``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

from zquant_backtest.domain.rules_table import DividendTax


@dataclass
class Lot:
    """``cost`` includes the buy's fees; ``income`` is dividends entitled while held (net of any tax withheld at
    payment); ``taxable`` is the part of it still to be taxed on sale under a holding-period regime."""

    qty: int
    cost: float
    acquired: date
    income: float = 0.0
    taxable: float = 0.0


@dataclass(frozen=True)
class RoundTrip:
    index: int
    opened: date
    closed: date
    qty: int
    cost: float
    proceeds: float
    income: float
    tax: float

    @property
    def pnl(self) -> float:
        return self.proceeds + self.income - self.cost - self.tax


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def holding_rate(tax: DividendTax, acquired: date, sold: date) -> float:
    """财税[2012]85号 / [2015]101号: ≤ 1 month, ≤ 1 year, longer — counted from acquisition to sale."""
    if sold <= add_months(acquired, 1):
        return tax.up_to_month
    if sold <= add_months(acquired, 12):
        return tax.up_to_year
    return tax.over_year


@dataclass
class LotBook:
    lots: dict[int, list[Lot]] = field(default_factory=dict)
    round_trips: list[RoundTrip] = field(default_factory=list)

    def buy(self, index: int, on: date, qty: int, cost: float) -> None:
        self.lots.setdefault(index, []).append(Lot(qty=qty, cost=cost, acquired=on))

    def sell(self, index: int, on: date, qty: int, proceeds: float, tax: DividendTax | None) -> float:
        """Close ``qty`` shares first-in first-out; returns the dividend tax due on them (0 when ``tax`` is None)."""
        remaining, due = qty, 0.0
        lots = self.lots.get(index, [])
        while remaining > 0:
            lot = lots[0]
            take = min(remaining, lot.qty)
            part = take / lot.qty
            piece = Lot(take, lot.cost * part, lot.acquired, lot.income * part, lot.taxable * part)
            piece_tax = piece.taxable * holding_rate(tax, lot.acquired, on) if tax is not None else 0.0
            self.round_trips.append(
                RoundTrip(
                    index, lot.acquired, on, take, piece.cost, proceeds * take / qty, piece.income, piece_tax
                )
            )
            due += piece_tax
            lot.qty, lot.cost = lot.qty - take, lot.cost - piece.cost
            lot.income, lot.taxable = lot.income - piece.income, lot.taxable - piece.taxable
            if lot.qty == 0:
                lots.pop(0)
            remaining -= take
        return due

    def add_bonus(self, index: int, shares: int) -> None:
        """Bonus / transfer shares join the lots pro rata (floors, the remainder to the last lot): they keep the
        original acquisition date, as the tax rules count it, and cost nothing."""
        lots = self.lots.get(index, [])
        held = sum(lot.qty for lot in lots)
        if not lots or shares <= 0:
            return
        given = 0
        for lot in lots[:-1]:
            extra = shares * lot.qty // held
            lot.qty += extra
            given += extra
        lots[-1].qty += shares - given

    def entitle(self, index: int, per_share: float, withheld_rate: float, taxable_on_sale: bool) -> None:
        """A cash dividend on the shares now held (record date): income per lot, taxed now or later on sale."""
        for lot in self.lots.get(index, []):
            gross = lot.qty * per_share
            lot.income += gross * (1.0 - withheld_rate)
            if taxable_on_sale:
                lot.taxable += gross

    def cost_basis(self, index: int) -> float:
        return sum(lot.cost for lot in self.lots.get(index, []))
