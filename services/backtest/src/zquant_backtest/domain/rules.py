"""The rules in force on one date, resolved from the dated table into per-board / per-exchange arrays."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Protocol, TypeVar

import numpy as np

from zquant_backtest.domain import rules_table as table
from zquant_backtest.domain.arrays import FloatArray, IntArray
from zquant_backtest.domain.boards import Board, Exchange

RULES_START = date(1991, 10, 10)


class _Dated(Protocol):
    @property
    def effective(self) -> date: ...


T = TypeVar("T", bound=_Dated)


def _in_force(entries: Sequence[T], on: date) -> T:
    """The latest entry that took effect on or before ``on``; a board not yet open gets its first entry."""
    earlier = [entry for entry in entries if entry.effective <= on]
    return (
        max(earlier, key=lambda entry: entry.effective)
        if earlier
        else min(entries, key=lambda e: e.effective)
    )


def _per(keys: Sequence[int], entries: Sequence[T], key_of: Callable[[T], int], on: date) -> list[T]:
    return [_in_force([e for e in entries if key_of(e) == key], on) for key in keys]


@dataclass(frozen=True, eq=False)
class DayRules:
    """Arrays are indexed by ``Board`` (limits, listings, lots) or ``Exchange`` (transfer fee) values."""

    on: date
    stamp_buy: float
    stamp_sell: float
    transfer_rate: FloatArray
    transfer_per_share: FloatArray
    transfer_minimum: FloatArray
    limit_pct: FloatArray
    st_limit_pct: FloatArray
    no_limit_days: IntArray
    first_day_up: FloatArray
    first_day_down: FloatArray
    lot_minimum: IntArray
    lot_step: IntArray
    dividend_tax: table.DividendTax


@lru_cache(maxsize=4096)
def rules_on(on: date) -> DayRules:
    """The rules a trade on ``on`` is subject to."""
    if on < RULES_START:
        raise ValueError(f"the rules table starts on {RULES_START}, not {on}")
    boards = [int(b) for b in Board]
    exchanges = [int(x) for x in Exchange]
    stamp = _in_force(table.STAMP_DUTY, on)
    fees = _per(exchanges, table.TRANSFER_FEE, lambda e: int(e.exchange), on)
    limits = _per(boards, table.PRICE_LIMITS, lambda e: int(e.board), on)
    listings = _per(boards, table.NEW_LISTINGS, lambda e: int(e.board), on)
    lots = _per(boards, table.LOTS, lambda e: int(e.board), on)
    return DayRules(
        on=on,
        stamp_buy=stamp.buy_rate,
        stamp_sell=stamp.sell_rate,
        transfer_rate=np.array([f.rate for f in fees]),
        transfer_per_share=np.array([f.per_share for f in fees]),
        transfer_minimum=np.array([f.minimum for f in fees]),
        limit_pct=np.array([lim.pct for lim in limits]),
        st_limit_pct=np.array([lim.st_pct for lim in limits]),
        no_limit_days=np.array([n.no_limit_days for n in listings], dtype=np.int64),
        first_day_up=np.array([n.first_day_up for n in listings]),
        first_day_down=np.array([n.first_day_down for n in listings]),
        lot_minimum=np.array([lot.minimum for lot in lots], dtype=np.int64),
        lot_step=np.array([lot.step for lot in lots], dtype=np.int64),
        dividend_tax=_in_force(table.DIVIDEND_TAX, on),
    )


def _table_digest() -> str:
    text = repr(
        (
            table.STAMP_DUTY,
            table.TRANSFER_FEE,
            table.PRICE_LIMITS,
            table.NEW_LISTINGS,
            table.LOTS,
            table.DIVIDEND_TAX,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _latest_effective() -> date:
    entries: list[_Dated] = [
        *table.STAMP_DUTY,
        *table.TRANSFER_FEE,
        *table.PRICE_LIMITS,
        *table.NEW_LISTINGS,
        *table.LOTS,
        *table.DIVIDEND_TAX,
    ]
    return max(entry.effective for entry in entries)


RULES_VERSION: str = f"a-share-{_latest_effective().isoformat()}-{_table_digest()}"
"""Recorded with every result: the latest rule date in the table plus a digest of the whole table, so any edit to
the table changes the version."""
