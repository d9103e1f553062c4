"""Typed values crossing the sandbox boundary, and the parent's validation of everything the child says."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .child.framing import ORDER_KINDS

MAX_REASON_CHARS = 2000
MAX_ORDERS_PER_CODE = 4
_MAX_SHARES = 1e12
_MAX_VALUE = 1e15


class OrderKind(enum.Enum):
    """How `amount` is meant; the engine turns each into a share quantity under the day's rules."""

    SHARES = "shares"
    VALUE = "value"
    TARGET_SHARES = "target_shares"
    TARGET_PERCENT = "target_percent"


_BOUNDS = {
    OrderKind.SHARES: (-_MAX_SHARES, _MAX_SHARES),
    OrderKind.VALUE: (-_MAX_VALUE, _MAX_VALUE),
    OrderKind.TARGET_SHARES: (0.0, _MAX_SHARES),
    OrderKind.TARGET_PERCENT: (0.0, 1.0),
}


@dataclass(frozen=True)
class SandboxOrder:
    """One order a strategy placed: universe position of the code, kind, amount."""

    code_index: int
    kind: OrderKind
    amount: float


@dataclass(frozen=True)
class PortfolioView:
    """The portfolio the child is shown at the start of a day (shares aligned with the universe)."""

    cash: float
    shares: NDArray[np.float64]


class SandboxRunFailed(Exception):
    """The run is over; `reason` says why in words a user can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_ready(message: dict[str, Any]) -> None:
    """The child's answer to the start frame."""
    _raise_if_error(message)
    if message.get("t") != "ready":
        raise SandboxRunFailed("invalid reply from sandbox: expected ready")


def parse_orders(message: dict[str, Any], n_codes: int) -> list[SandboxOrder]:
    """Validate a day's reply field by field; anything unexpected fails the run."""
    _raise_if_error(message)
    raw = message.get("o")
    if message.get("t") != "orders" or not isinstance(raw, list):
        raise SandboxRunFailed("invalid reply from sandbox: expected orders")
    if len(raw) > MAX_ORDERS_PER_CODE * max(n_codes, 1):
        raise SandboxRunFailed(f"invalid reply from sandbox: {len(raw)} orders for {n_codes} codes")
    return [_order(item, n_codes) for item in raw]


def _order(item: Any, n_codes: int) -> SandboxOrder:
    if not (isinstance(item, list) and len(item) == 3):
        raise SandboxRunFailed("invalid reply from sandbox: malformed order")
    index, kind_code, amount = item
    if type(index) is not int or not 0 <= index < n_codes:
        raise SandboxRunFailed(f"invalid reply from sandbox: unknown code index {index!r}")
    if type(kind_code) is not int or not 0 <= kind_code < len(ORDER_KINDS):
        raise SandboxRunFailed(f"invalid reply from sandbox: unknown order kind {kind_code!r}")
    if type(amount) not in (int, float) or not math.isfinite(amount):
        raise SandboxRunFailed(f"invalid order amount {amount!r}: not a finite number")
    kind = OrderKind(ORDER_KINDS[kind_code])
    low, high = _BOUNDS[kind]
    if not low <= amount <= high:
        raise SandboxRunFailed(f"order amount {amount} out of bounds [{low}, {high}] for {kind.value}")
    return SandboxOrder(index, kind, float(amount))


def _raise_if_error(message: dict[str, Any]) -> None:
    if message.get("t") == "error":
        reason = message.get("r")
        text = reason if isinstance(reason, str) else "unspecified error"
        raise SandboxRunFailed(f"strategy failed: {text[:MAX_REASON_CHARS]}")
