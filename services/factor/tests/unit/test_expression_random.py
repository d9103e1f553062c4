"""Property-style checks on many random valid expressions: each parses, evaluates without raising on a panel
with suspensions, never yields an infinity, reparses from its canonical text to the same values, and (when it
has no EMA) needs exactly the warm-up it reports."""

from __future__ import annotations

import random

import numpy as np
import pytest

from zquant_factor.domain.expressions import FUNCTIONS, CheckedExpression
from zquant_factor.domain.expressions.functions import WindowKind

pytestmark = pytest.mark.unit

FIELDS = ("close", "open", "vol", "turnover_rate")
BINARY = ("+", "-", "*", "/", "<", ">=", "==", "!=")
SAFE_BINARY = ("+", "-", "*")
SAFE_FUNCTIONS = sorted(set(FUNCTIONS) - {"log", "where", "ema"})
"""For the warm-up check: nothing that turns valid inputs into NaN (x / 0, log of x ≤ 0) or needs all history."""


def random_source(rng: random.Random, depth: int, *, safe: bool) -> str:
    if depth == 0 or rng.random() < 0.25:
        leaf = rng.choice(FIELDS)
        return leaf if safe or rng.random() < 0.8 else str(rng.choice([0, 1, 2.5, 100]))
    kind = rng.random()
    if kind < 0.3:
        op = rng.choice(SAFE_BINARY if safe else BINARY)
        left, right = random_source(rng, depth - 1, safe=safe), random_source(rng, depth - 1, safe=safe)
        return f"({left} {op} {right})"
    if kind < 0.35:
        return f"-{random_source(rng, depth - 1, safe=safe)}"
    if safe and kind < 0.45:
        return f"({random_source(rng, depth - 1, safe=safe)} / {rng.choice(['close', 'open'])})"
    signature = FUNCTIONS[rng.choice(SAFE_FUNCTIONS if safe else sorted(FUNCTIONS))]
    args = [random_source(rng, depth - 1, safe=safe) for _ in signature.params]
    if signature.window is not WindowKind.NONE:
        args.append(str(rng.choice([signature.min_window, 2, 3, 5, 8, 40 if not safe else 6])))
    return f"{signature.name}({', '.join(args)})"


def panel(rows: int, stocks: int, seed: int, *, suspended: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 10 * np.exp(np.cumsum(rng.normal(0, 0.02, (rows, stocks)), axis=0))
    fields = {
        "close": close,
        "open": close * np.exp(rng.normal(0, 0.01, (rows, stocks))),
        "vol": rng.lognormal(8, 1, (rows, stocks)),
        "turnover_rate": rng.uniform(0.1, 5, (rows, stocks)),
    }
    mask = rng.random((rows, stocks)) < suspended
    mask[: rows // 3, 0] = True  # a late listing
    for values in fields.values():
        values[mask if suspended else np.zeros_like(mask)] = np.nan
    return fields


def sources(seed: int, count: int, *, safe: bool) -> list[str]:
    """`count` random expressions, each naming a field (one without is refused: it is constant)."""
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        source = random_source(rng, rng.randint(1, 5), safe=safe)
        if any(name in source for name in FIELDS):
            found.append(source)
    return found


def test_random_valid_expressions_evaluate_without_raising_or_infinity() -> None:
    data = panel(50, 5, seed=3, suspended=0.2)
    seen: set[str] = set()
    for source in sources(seed=11, count=250, safe=False):
        expr = CheckedExpression.parse(source)
        with np.errstate(all="raise"):  # a stray floating-point warning would be an unguarded operation
            out = expr.evaluate(data)
        assert out.shape == (50, 5), source
        assert out.dtype == np.float64, source
        assert not np.isinf(out).any(), source
        assert expr.fields <= set(FIELDS)
        again = CheckedExpression.parse(expr.canonical)
        assert again.canonical == expr.canonical, source
        np.testing.assert_array_equal(again.evaluate(data), out, err_msg=source)
        seen.update(name for name in FUNCTIONS if f"{name}(" in source)
    assert seen == set(FUNCTIONS)


def test_random_expressions_need_exactly_their_reported_warm_up() -> None:
    data = panel(80, 4, seed=5, suspended=0.0)
    checked = 0
    for source in sources(seed=23, count=150, safe=True):
        expr = CheckedExpression.parse(source)
        assert not expr.recursive
        if expr.lookback >= 70:
            continue
        full = expr.evaluate(data)
        start = 79 - expr.lookback - 5  # the last 6 values, from exactly the warm-up before them
        tail = expr.evaluate({name: values[start:] for name, values in data.items()})
        np.testing.assert_allclose(tail[-6:], full[-6:], rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=source)
        shorter = expr.evaluate({name: values[start + 1 :] for name, values in data.items()})
        if expr.lookback > 0:  # one bar less and the first value is still warming up: the warm-up is tight
            assert np.isnan(shorter[0]).all(), source
        checked += 1
    assert checked > 100
