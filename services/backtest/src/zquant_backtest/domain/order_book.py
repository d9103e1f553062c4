"""Orders placed on one decision day and not yet filled, resolved to signed shares at placement time.

An order decided on day t is priced with the latest close the decision could see, kept here until day t+1's fill,
and may be cancelled until then. Several orders on one code net into the kernel's one order per code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, FloatArray, IntArray
from zquant_backtest.domain.targets import shares_for_value, target_weight_orders


class OrderKind(Enum):
    SHARES = "shares"
    VALUE = "value"
    TARGET_SHARES = "target_shares"
    TARGET_VALUE = "target_value"
    TARGET_PERCENT = "target_percent"
    TARGET_WEIGHTS = "target_weights"
    CANCEL = "cancel"


@dataclass(frozen=True, eq=False)
class OrderRequest:
    """What a strategy asks for. ``code`` is the panel column (-1 for weights and cancels); ``weights`` has one
    entry per column (codes left out at 0); ``cancels`` is the id of the order to cancel."""

    id: int
    kind: OrderKind
    code: int = -1
    amount: float = 0.0
    weights: FloatArray | None = None
    cancels: int = -1


@dataclass(frozen=True)
class PortfolioState:
    """What the resolution needs: held shares, a price per code (last close) and the total value."""

    qty: IntArray
    price: FloatArray
    total_value: float


@dataclass
class OrderBook:
    """``eligible`` (set by the engine each decision) is the day's universe: buys outside it are refused and kept
    in ``outside`` as (code, requested shares); sells are always allowed, so a code that left stays sellable."""

    n: int
    eligible: BoolArray | None = None
    pending: dict[int, tuple[IntArray, IntArray]] = field(default_factory=dict)
    """Order id → (codes, signed shares)."""
    outside: list[tuple[int, int]] = field(default_factory=list)
    _planned: IntArray = field(init=False)

    def __post_init__(self) -> None:
        self._planned = np.zeros(self.n, dtype=np.int64)

    def place(self, requests: Sequence[OrderRequest], state: PortfolioState) -> None:
        for request in requests:
            if request.kind is OrderKind.CANCEL:
                cancelled = self.pending.pop(request.cancels, None)
                if cancelled is not None:
                    np.subtract.at(self._planned, cancelled[0], cancelled[1])
                continue
            codes, shares = self._resolve(request, state)
            if self.eligible is not None:
                refused = (shares > 0) & ~self.eligible[codes]
                self.outside.extend(zip(codes[refused].tolist(), shares[refused].tolist(), strict=True))
                codes, shares = codes[~refused], shares[~refused]
            if codes.size:
                self.pending[request.id] = (codes, shares)
                np.add.at(self._planned, codes, shares)

    def take(self) -> IntArray:
        """The netted orders for the next fill; the book is empty afterwards."""
        orders = self._planned.copy()
        self._planned[:] = 0
        self.pending.clear()
        return orders

    def _resolve(self, request: OrderRequest, state: PortfolioState) -> tuple[IntArray, IntArray]:
        if request.kind is OrderKind.TARGET_WEIGHTS:
            if request.weights is None or request.weights.shape != (self.n,):
                raise ValueError("target weights need one weight per code")
            held = state.qty + self._planned
            orders = target_weight_orders(request.weights, state.total_value, state.price, held)
            codes = np.flatnonzero(orders)
            return codes, orders[codes]
        if not 0 <= request.code < self.n:
            raise ValueError(f"order {request.id}: no code at column {request.code}")
        at = request.code
        price, held_here = state.price[at : at + 1], int(state.qty[at] + self._planned[at])
        kind, amount = request.kind, request.amount
        if kind is OrderKind.SHARES:
            delta = int(amount)
        elif kind is OrderKind.VALUE:
            delta = int(shares_for_value(np.array([amount]), price)[0])
        elif kind is OrderKind.TARGET_SHARES:
            delta = int(amount) - held_here
        else:
            value = amount * state.total_value if kind is OrderKind.TARGET_PERCENT else amount
            one = np.array([held_here], dtype=np.int64)
            delta = int(target_weight_orders(np.array([value]), 1.0, price, one)[0])
        codes = np.array([at] if delta else [], dtype=np.int64)
        return codes, np.array([delta] if delta else [], dtype=np.int64)
