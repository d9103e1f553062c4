"""Element-wise operators and functions: NaN in gives NaN out, and nothing produces an infinity or raises."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from zquant_factor.domain.expressions.panel import Panel, finite_or_nan

_COMPARE: dict[str, Callable[[Panel, Panel], Panel]] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def arithmetic(op: str, left: Panel, right: Panel) -> Panel:
    """`left op right` for op in + - * /; x / 0 is NaN, and an overflow is NaN rather than ±inf."""
    with np.errstate(all="ignore"):
        if op == "+":
            out = left + right
        elif op == "-":
            out = left - right
        elif op == "*":
            out = left * right
        else:
            out = left / right
    return finite_or_nan(out)


def compare(op: str, left: Panel, right: Panel) -> Panel:
    """1.0 where the comparison holds, 0.0 where it does not, NaN where either side is NaN."""
    with np.errstate(invalid="ignore"):
        out = _COMPARE[op](left, right).astype(np.float64)
    out[np.isnan(left) | np.isnan(right)] = np.nan
    return out


def absolute(x: Panel) -> Panel:
    return np.abs(x)


def sign(x: Panel) -> Panel:
    return np.sign(x)


def log(x: Panel) -> Panel:
    """Natural log; NaN for x ≤ 0 (not −inf, not a warning)."""
    out = np.full_like(x, np.nan)
    np.log(x, out=out, where=x > 0)
    return out


def where(condition: Panel, if_true: Panel, if_false: Panel) -> Panel:
    """`if_true` where `condition` is non-zero, `if_false` where it is zero, NaN where it is NaN."""
    out = np.where(condition != 0.0, if_true, if_false)
    out[np.isnan(condition)] = np.nan
    return out
