"""Orders placed on one decision day and not yet filled, resolved to signed shares at placement time.

An order decided on day t is priced with the latest close the decision could see, kept here until day t+1's fill,
and may be cancelled until then. Several orders on one code net into the kernel's one order per code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, FloatArray, IntArray
from zquant_backtest.domain.orders import Reason
from zquant_backtest.domain.targets import shares_for_one, target_weight_orders


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


_PRICED = (OrderKind.VALUE, OrderKind.TARGET_VALUE, OrderKind.TARGET_PERCENT)
"""Single-code orders that need a price to become shares."""


@dataclass(frozen=True)
class PortfolioState:
    """What the resolution needs: held shares, a price per code (last close) and the total value."""

    qty: IntArray
    price: FloatArray
    total_value: float


@dataclass
class OrderBook:
    """``eligible`` (set by the engine each decision) is the day's universe: buys outside it are refused; sells
    are always allowed, so a code that left stays sellable. Orders refused at placement are kept in ``refused`` as
    (code, requested shares, reason) for the record."""

    n: int
    eligible: BoolArray | None = None
    pending: dict[int, tuple[IntArray | int, IntArray | int]] = field(default_factory=dict)
    """Order id → (codes, signed shares): arrays for a weights order, plain ints for a single-code one."""
    refused: list[tuple[int, int, Reason]] = field(default_factory=list)
    _planned: IntArray = field(init=False)

    def __post_init__(self) -> None:
        self._planned = np.zeros(self.n, dtype=np.int64)

    def place(self, requests: Sequence[OrderRequest], state: PortfolioState) -> None:
        for request in requests:
            if request.kind is OrderKind.CANCEL:
                cancelled = self.pending.pop(request.cancels, None)
                if cancelled is not None:
                    self._planned[cancelled[0]] -= cancelled[1]
            elif request.kind is OrderKind.TARGET_WEIGHTS:
                self._place_weights(request, state)
            else:
                self._place_one(request, state)

    def take(self) -> IntArray:
        """The netted orders for the next fill; the book is empty afterwards."""
        orders = self._planned.copy()
        self._planned[:] = 0
        self.pending.clear()
        return orders

    def _place_weights(self, request: OrderRequest, state: PortfolioState) -> None:
        if request.weights is None or request.weights.shape != (self.n,):
            raise ValueError("target weights need one weight per code")
        held = state.qty + self._planned
        orders = target_weight_orders(request.weights, state.total_value, state.price, held)
        codes = np.flatnonzero(orders)
        shares = orders[codes]
        if self.eligible is not None:
            refused = (shares > 0) & ~self.eligible[codes]
            for code, shares_refused in zip(codes[refused].tolist(), shares[refused].tolist(), strict=True):
                self.refused.append((code, shares_refused, Reason.NOT_IN_UNIVERSE))
            codes, shares = codes[~refused], shares[~refused]
        if codes.size:
            self.pending[request.id] = (codes, shares)
            self._planned[codes] += shares

    def _place_one(self, request: OrderRequest, state: PortfolioState) -> None:
        at = request.code
        if not 0 <= at < self.n:
            raise ValueError(f"order {request.id}: no code at column {at}")
        price = float(state.price[at])
        delta = self._one_code(request, price, int(state.qty[at] + self._planned[at]), state)
        if (
            not delta
            and request.kind in _PRICED
            and request.amount
            and not (math.isfinite(price) and price > 0)
        ):
            self.refused.append((at, 0, Reason.NO_PRICE))
        if delta > 0 and self.eligible is not None and not self.eligible[at]:
            self.refused.append((at, delta, Reason.NOT_IN_UNIVERSE))
        elif delta:
            self.pending[request.id] = (at, delta)
            self._planned[at] += delta

    @staticmethod
    def _one_code(request: OrderRequest, price: float, held: int, state: PortfolioState) -> int:
        """The shares one single-code request adds, by the same conversion as ``targets`` (scalar fast path)."""
        kind, amount = request.kind, request.amount
        if kind is OrderKind.SHARES:
            return int(amount)
        if kind is OrderKind.TARGET_SHARES:
            return int(amount) - held
        value = amount * state.total_value if kind is OrderKind.TARGET_PERCENT else amount
        shares = shares_for_one(value, price)
        if kind is OrderKind.VALUE:
            return shares
        return -held if value == 0 else (shares - held if math.isfinite(price) and price > 0 else 0)
