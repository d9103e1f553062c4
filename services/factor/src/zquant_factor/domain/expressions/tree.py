"""The checked tree a custom expression becomes: only these node types exist, so evaluating one can do nothing
but arithmetic on panels and calls of registered functions.

Each node answers the questions the calculation needs before it runs: the warm-up look-back, the fields to
load, and a canonical text (fully parenthesised, constants as floats) that fingerprints the expression.
"""

from __future__ import annotations

from dataclasses import dataclass

from zquant_factor.domain.expressions.functions import Signature

ARITHMETIC = ("+", "-", "*", "/")
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A declared field of the panel, e.g. `close`."""

    name: str


@dataclass(frozen=True, slots=True)
class Constant:
    """A finite, non-negative numeric constant (a minus sign is a `Negate` around it)."""

    value: float


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus; a unary plus is dropped by the parser, so it has no node."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """`op` is one of ARITHMETIC (division by zero gives NaN) or COMPARISONS (1.0 / 0.0, NaN if a side is NaN)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    """A registered function on `args` (panels); `window` is its integer window or lag, None if it takes none."""

    function: Signature
    args: tuple[Node, ...]
    window: int | None


Node = FieldRef | Constant | Negate | Binary | Call


def lookback(node: Node) -> int:
    """Bars of history (per stock, suspended days not counted) needed before the first value: nested windows add."""
    match node:
        case FieldRef() | Constant():
            return 0
        case Negate(operand):
            return lookback(operand)
        case Binary(_, left, right):
            return max(lookback(left), lookback(right))
        case Call(function, args, window):
            inner = max(lookback(arg) for arg in args)
            return inner + function.lookback_of(window)


def fields(node: Node) -> frozenset[str]:
    match node:
        case FieldRef(name):
            return frozenset((name,))
        case Constant():
            return frozenset()
        case Negate(operand):
            return fields(operand)
        case Binary(_, left, right):
            return fields(left) | fields(right)
        case Call(_, args, _):
            return frozenset().union(*(fields(arg) for arg in args))


def is_recursive(node: Node) -> bool:
    """True when a value depends on the whole history (an EMA), not only on `lookback` bars."""
    match node:
        case FieldRef() | Constant():
            return False
        case Negate(operand):
            return is_recursive(operand)
        case Binary(_, left, right):
            return is_recursive(left) or is_recursive(right)
        case Call(function, args, _):
            return function.recursive or any(is_recursive(arg) for arg in args)


def canonical(node: Node) -> str:
    """One text per tree: no spaces, every operation parenthesised, constants as Python floats."""
    match node:
        case FieldRef(name):
            return name
        case Constant(value):
            return repr(value)
        case Negate(operand):
            return f"(-{canonical(operand)})"
        case Binary(op, left, right):
            return f"({canonical(left)}{op}{canonical(right)})"
        case Call(function, args, window):
            parts = [canonical(arg) for arg in args]
            if window is not None:
                parts.append(str(window))
            return f"{function.name}({','.join(parts)})"
