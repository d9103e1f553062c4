"""A custom factor expression once checked: what it needs (fields, warm-up), what it is (canonical text), and
its values on a panel.

    >>> expr = CheckedExpression.parse("rank(close / ma(close, 20))")
    >>> expr.lookback, sorted(expr.fields), expr.canonical
    (19, ['close'], 'rank((close/ma(close,20)))')
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from zquant_factor.domain.expressions import elementwise, tree
from zquant_factor.domain.expressions.panel import Panel
from zquant_factor.domain.expressions.parser import parse_tree
from zquant_factor.domain.expressions.tree import Binary, Call, Constant, FieldRef, Negate, Node


@dataclass(frozen=True, slots=True)
class CheckedExpression:
    """`lookback` counts valid bars per stock before the first value; `recursive` says an EMA inside makes every
    value depend on all history, so an incremental run must carry state (or reload from the start)."""

    source: str
    root: Node
    lookback: int = field(init=False)
    fields: frozenset[str] = field(init=False)
    recursive: bool = field(init=False)
    canonical: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lookback", tree.lookback(self.root))
        object.__setattr__(self, "fields", tree.fields(self.root))
        object.__setattr__(self, "recursive", tree.is_recursive(self.root))
        object.__setattr__(self, "canonical", tree.canonical(self.root))

    @classmethod
    def parse(cls, source: str) -> CheckedExpression:
        """The checked expression, or ExpressionError (INVALID_ARGUMENT on `expression`) pointing at the problem."""
        return cls(source, parse_tree(source))

    @property
    def fingerprint(self) -> str:
        """sha256 of the canonical text: equal for sources differing only in spacing, brackets or 2 vs 2.0."""
        return hashlib.sha256(self.canonical.encode()).hexdigest()

    def evaluate(self, panel: Mapping[str, npt.ArrayLike]) -> Panel:
        """Values on a dates × stocks panel holding at least `fields`, all of one shape; NaN where undefined."""
        return _Evaluation(_checked_panel(panel, self.fields)).value(self.root)


def _checked_panel(panel: Mapping[str, npt.ArrayLike], needed: frozenset[str]) -> dict[str, Panel]:
    missing = sorted(needed - panel.keys())
    if missing:
        raise ValueError(f"panel lacks the fields {missing}")
    arrays = {name: np.ascontiguousarray(panel[name], dtype=np.float64) for name in sorted(needed)}
    shapes = {array.shape for array in arrays.values()}
    if len(shapes) != 1 or any(len(shape) != 2 for shape in shapes):
        raise ValueError(f"fields must be dates × stocks panels of one shape, got {sorted(shapes)}")
    return arrays


class _Evaluation:
    """One bottom-up pass; each field panel is read, never written (kernels allocate their results)."""

    def __init__(self, panel: dict[str, Panel]) -> None:
        self._panel = panel
        self._shape = next(iter(panel.values())).shape

    def value(self, node: Node) -> Panel:
        match node:
            case FieldRef(name):
                return self._panel[name]
            case Constant(number):
                return np.full(self._shape, number)
            case Negate(operand):
                return np.negative(self.value(operand))
            case Binary(op, left, right) if op in tree.ARITHMETIC:
                return elementwise.arithmetic(op, self.value(left), self.value(right))
            case Binary(op, left, right):
                return elementwise.compare(op, self.value(left), self.value(right))
            case Call(function, args, window):
                extra = () if window is None else (window,)
                return function.kernel(*(self.value(arg) for arg in args), *extra)
        raise TypeError(f"not a checked node: {node!r}")
