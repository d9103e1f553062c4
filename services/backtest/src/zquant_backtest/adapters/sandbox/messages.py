"""The parent's validation of everything the child says: nothing it sends is trusted or executed.

Order replies become the engine's `OrderRequest`s only after every field is checked (finite, in bounds,
known code, known kind, bounded count); a weights block is checked for shape, finiteness and bounds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zquant_backtest.application.run_ports import RunFailed
from zquant_backtest.application.strategy_port import Phase
from zquant_backtest.domain.arrays import BoolArray, FloatArray
from zquant_backtest.domain.order_book import OrderKind, OrderRequest

from .child.framing import ORDER_KINDS

MAX_REASON_CHARS = 2000
MAX_ORDERS_PER_CODE = 4
WEIGHT_ROW_TOLERANCE = 1e-9
_MAX_SHARES = 1e12
_MAX_VALUE = 1e15

_BOUNDS = {
    OrderKind.SHARES: (-_MAX_SHARES, _MAX_SHARES),
    OrderKind.VALUE: (-_MAX_VALUE, _MAX_VALUE),
    OrderKind.TARGET_SHARES: (0.0, _MAX_SHARES),
    OrderKind.TARGET_VALUE: (0.0, _MAX_VALUE),
    OrderKind.TARGET_PERCENT: (0.0, 1.0),
}
_KINDS = tuple(OrderKind(name) for name in ORDER_KINDS)


class SandboxRunFailed(RunFailed):
    """The run is over; `reason` says why in words the strategy's owner can act on (never a stack trace).
    A `RunFailed`, so the worker fails the task with the reason as it does for any other run failure."""


def parse_ready(message: dict[str, Any], entry: str) -> frozenset[Phase]:
    """The child's answer to the start frame: the callbacks the module defines."""
    _raise_if_error(message)
    names = message.get("p")
    if message.get("t") != "ready" or not isinstance(names, list) or entry not in names:
        raise SandboxRunFailed("invalid reply from sandbox: expected ready")
    if entry != Phase.HANDLE_BAR.value:
        return frozenset()
    known = {phase.value: phase for phase in Phase}
    if not all(isinstance(n, str) and n in known for n in names):
        raise SandboxRunFailed("invalid reply from sandbox: unknown callback")
    return frozenset(known[n] for n in names)


def parse_orders(message: dict[str, Any], n_codes: int, first_id: int) -> list[OrderRequest]:
    """Validate a day's reply field by field; ids count on from `first_id`. Anything unexpected fails the run."""
    _raise_if_error(message)
    raw = message.get("o")
    if message.get("t") != "orders" or not isinstance(raw, list):
        raise SandboxRunFailed("invalid reply from sandbox: expected orders")
    if len(raw) > MAX_ORDERS_PER_CODE * max(n_codes, 1):
        raise SandboxRunFailed(f"invalid reply from sandbox: {len(raw)} orders for {n_codes} codes")
    return [_order(item, n_codes, first_id + k) for k, item in enumerate(raw)]


def parse_weights(message: dict[str, Any], raw: bytes, shape: tuple[int, int]) -> tuple[FloatArray, BoolArray]:
    """targets()'s block: rows all NaN are days without a rebalance, every other row finite, ≥ 0, summing
    to at most 1; returns (weights, rebalance flags)."""
    _raise_if_error(message)
    if message.get("t") != "weights" or len(raw) != shape[0] * shape[1] * 8:
        raise SandboxRunFailed("invalid reply from sandbox: expected a weights block")
    weights = np.frombuffer(raw, dtype="<f8").reshape(shape).astype(np.float64)
    skipped: BoolArray = np.asarray(np.isnan(weights).all(axis=1))
    active = weights[~skipped]
    if not np.isfinite(active).all():
        raise SandboxRunFailed("targets() weights must be finite on rebalance days (a row of NaN skips a day)")
    if (active < 0).any():
        raise SandboxRunFailed("targets() weights must be ≥ 0 (no short positions)")
    sums = active.sum(axis=1)
    if (sums > 1.0 + WEIGHT_ROW_TOLERANCE).any():
        raise SandboxRunFailed(f"targets() weights of a day sum to {sums.max():.6g}, more than 1")
    return weights, ~skipped


def _order(item: Any, n_codes: int, order_id: int) -> OrderRequest:
    if not (isinstance(item, list) and len(item) == 3):
        raise SandboxRunFailed("invalid reply from sandbox: malformed order")
    index, kind_code, amount = item
    if type(index) is not int or not 0 <= index < n_codes:
        raise SandboxRunFailed(f"invalid reply from sandbox: unknown code index {index!r}")
    if type(kind_code) is not int or not 0 <= kind_code < len(_KINDS):
        raise SandboxRunFailed(f"invalid reply from sandbox: unknown order kind {kind_code!r}")
    if type(amount) not in (int, float) or not math.isfinite(amount):
        raise SandboxRunFailed(f"invalid order amount {amount!r}: not a finite number")
    kind = _KINDS[kind_code]
    low, high = _BOUNDS[kind]
    if not low <= amount <= high:
        raise SandboxRunFailed(f"order amount {amount} out of bounds [{low}, {high}] for {kind.value}")
    return OrderRequest(id=order_id, kind=kind, code=index, amount=float(amount))


def _raise_if_error(message: dict[str, Any]) -> None:
    if message.get("t") == "error":
        reason = message.get("r")
        text = reason if isinstance(reason, str) else "unspecified error"
        raise SandboxRunFailed(f"strategy failed: {text[:MAX_REASON_CHARS]}")
