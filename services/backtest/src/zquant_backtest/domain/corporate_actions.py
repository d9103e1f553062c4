"""Dividends and bonus shares on the ledger, from ``dividend`` data or, without it, from the ``adj_factor``.

With dividend data: the entitlement is the position at the record-date close; bonus and transfer shares (floored
to whole shares) arrive on the ex date and become sellable on their listing date (default: the trading day after
the ex date); cash arrives on the pay date, rounded half-up to the cent. Tax: in a flat regime (before 2013) it is
withheld on payment; in a holding-period regime it is charged on sale (see ``lots``).

Without dividend data (documented approximation): on an ex-rights day the gap
``last_price × (1 − adj[t−1]/adj[t])`` per share is credited as untaxed cash and the last price is scaled by
``adj[t−1]/adj[t]``, so the position's value is carried across the ex date; the share count does not change, so
the exposure after a bonus issue is understated by the cash part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from zquant_backtest.domain.arrays import FloatArray
from zquant_backtest.domain.ledger import Ledger
from zquant_backtest.domain.limits import round_half_up_cents
from zquant_backtest.domain.rules import rules_on


@dataclass(frozen=True)
class Dividend:
    """One ``dividend`` row for code ``index``: per-share cash (pre-tax) and bonus + transfer shares."""

    index: int
    record_date: date
    ex_date: date
    pay_date: date
    cash_per_share: float
    shares_per_share: float
    listing_date: date


def default_listing_date(ex_date: date, trading_days: Sequence[date]) -> date:
    """The first trading day after the ex date."""
    later = [day for day in trading_days if day > ex_date]
    if not later:
        raise ValueError(f"no trading day after {ex_date} to list the bonus shares on")
    return min(later)


@dataclass
class DividendSchedule:
    events: Sequence[Dividend]
    _entitled: dict[int, int] = field(default_factory=dict)

    def open_day(self, ledger: Ledger, on: date) -> None:
        """Ex date: bonus shares in; pay date: cash in (less tax withheld under a flat regime)."""
        for key, event in enumerate(self.events):
            shares = self._entitled.get(key, 0)
            if event.ex_date == on and event.shares_per_share > 0:
                ledger.add_bonus(
                    event.index, int(np.floor(shares * event.shares_per_share + 1e-9)), event.listing_date
                )
            if event.pay_date == on and event.cash_per_share > 0:
                gross = float(round_half_up_cents(np.array(shares * event.cash_per_share)))
                tax = rules_on(event.record_date).dividend_tax
                withheld = tax.up_to_month if ledger.dividend_tax and not tax.by_holding else 0.0
                tax_now = float(round_half_up_cents(np.array(gross * withheld)))
                ledger.credit(gross - tax_now)
                ledger.dividend_tax_paid += tax_now

    def close_day(self, ledger: Ledger, on: date) -> None:
        """Record date: fix the entitlement and attach the dividend income to the lots held."""
        for key, event in enumerate(self.events):
            if event.record_date != on:
                continue
            shares = int(ledger.qty[event.index])
            self._entitled[key] = shares
            tax = rules_on(on).dividend_tax
            withheld = tax.up_to_month if ledger.dividend_tax and not tax.by_holding else 0.0
            ledger.lots.entitle(
                event.index, event.cash_per_share, withheld, ledger.dividend_tax and tax.by_holding
            )


def carry_by_adj_factor(ledger: Ledger, adj_ratio: FloatArray) -> float:
    """Without dividend data: ``adj_ratio`` = adj[t] / adj[t−1] per code (1 where nothing happened). Returns the
    cash credited."""
    ratio = np.where(np.isfinite(adj_ratio) & (adj_ratio > 0), adj_ratio, 1.0)
    held = (ledger.qty > 0) & (ratio != 1.0) & np.isfinite(ledger.last_price)
    gap = np.where(held, ledger.qty * ledger.last_price * (1.0 - 1.0 / ratio), 0.0)
    credited = float(round_half_up_cents(gap).sum())
    ledger.last_price = np.where(held, ledger.last_price / ratio, ledger.last_price)
    ledger.credit(credited)
    return credited
