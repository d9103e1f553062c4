"""The report's tables as plain rows: fills (the latest ones when a run has too many to embed), refusals with
their reasons (counted in full, listed up to a cap) and the costs of the whole run by kind and side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zquant_backtest.adapters.report.reasons import reason_text
from zquant_backtest.domain.record import FillRows, RefusalRows

MAX_TRADE_ROWS = 5_000
MAX_REFUSAL_ROWS = 1_000


@dataclass(frozen=True)
class TradeColumns:
    """The embedded fills, column by column (day and code as indices into the result's dates and codes)."""

    total: int
    day: list[int]
    code: list[int]
    qty: list[int]
    """Signed: buys positive."""
    price: list[float]
    value: list[float]
    commission: list[float]
    stamp_duty: list[float]
    transfer_fee: list[float]
    slippage: list[float]

    @property
    def shown(self) -> int:
        return len(self.day)


def trade_columns(fills: FillRows, limit: int = MAX_TRADE_ROWS) -> TradeColumns:
    """The last ``limit`` fills in time order; ``total`` counts them all."""
    keep = slice(max(fills.qty.size - limit, 0), None)

    def money(values: np.ndarray) -> list[float]:
        rounded: list[float] = np.round(values[keep], 2).tolist()
        return rounded

    qty = fills.qty[keep]
    return TradeColumns(
        total=int(fills.qty.size),
        day=fills.day[keep].tolist(),
        code=fills.code[keep].tolist(),
        qty=qty.tolist(),
        price=np.round(fills.price[keep], 4).tolist(),
        value=np.round(np.abs(qty) * fills.price[keep], 2).tolist(),
        commission=money(fills.commission),
        stamp_duty=money(fills.stamp_duty),
        transfer_fee=money(fills.transfer_fee),
        slippage=money(fills.slippage),
    )


@dataclass(frozen=True)
class RefusalRow:
    date: str
    code: str
    reason: str
    requested: int
    remaining: int


@dataclass(frozen=True)
class Refusals:
    total: int
    by_reason: list[tuple[str, int]]
    """Every refusal counted per reason, most frequent first."""
    rows: list[RefusalRow]
    """The last ``MAX_REFUSAL_ROWS``."""


def refusals_of(
    refusals: RefusalRows, dates: Sequence[str], codes: Sequence[str], limit: int = MAX_REFUSAL_ROWS
) -> Refusals:
    reasons, counts = np.unique(refusals.reason, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    by_reason = [(reason_text(int(reasons[i])), int(counts[i])) for i in order]
    start = max(refusals.reason.size - limit, 0)
    rows = [
        RefusalRow(dates[day], codes[code], reason_text(reason), requested, remaining)
        for day, code, reason, requested, remaining in zip(
            refusals.day[start:].tolist(),
            refusals.code[start:].tolist(),
            refusals.reason[start:].tolist(),
            refusals.requested[start:].tolist(),
            refusals.remaining[start:].tolist(),
        )
    ]
    return Refusals(total=int(refusals.reason.size), by_reason=by_reason, rows=rows)


@dataclass(frozen=True)
class CostLine:
    name: str
    buys: float
    sells: float

    @property
    def total(self) -> float:
        return self.buys + self.sells


def costs_breakdown(fills: FillRows) -> list[CostLine]:
    """Commission, stamp duty, transfer fee (what the ledger paid) and slippage (in the fill price), per side."""
    buys = fills.qty > 0
    columns = (
        ("commission", fills.commission),
        ("stamp duty", fills.stamp_duty),
        ("transfer fee", fills.transfer_fee),
        ("slippage (in the price)", fills.slippage),
    )
    return [
        CostLine(name, float(values[buys].sum()), float(values[~buys].sum())) for name, values in columns
    ]
