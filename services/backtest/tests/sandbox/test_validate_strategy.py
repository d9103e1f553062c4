"""ValidateStrategy and the parent's reply validation: pure functions, nothing is run."""

from __future__ import annotations

import pytest

from zquant_backtest.adapters.sandbox.messages import SandboxRunFailed, parse_orders, parse_ready
from zquant_backtest.adapters.sandbox.validate import validate_strategy
from zquant_backtest.domain.order_book import OrderKind

pytestmark = pytest.mark.unit

GOOD = "import numpy as np\ndef handle_bar(context, bars):\n    order_shares(context.universe[0], 100)\n"
SCHEMA = {"window": {"type": "int", "min": 2, "max": 250, "required": True}, "ratio": {"type": "float", "default": 0.5}}


def _where(problems: list) -> list[tuple[int, int, str]]:
    return [(p.line, p.column, p.field) for p in problems]


def test_a_clean_strategy_with_valid_params_has_no_problem() -> None:
    assert validate_strategy(GOOD, {"window": 20, "ratio": 0.5}, SCHEMA) == []


@pytest.mark.parametrize(
    ("code", "line", "column", "fragment"),
    [
        ("def handle_bar(c, b):\n    import os\n", 2, 4, "import of 'os'"),
        ("from subprocess import run\ndef handle_bar(c, b):\n    run\n", 1, 0, "import from 'subprocess'"),
        ("def handle_bar(c, b):\n    x = ().__class__\n", 2, 8, "private attribute '__class__'"),
        ("def handle_bar(c, b):\n    '{0.__globals__}'.format(c)\n", 2, 4, "strings containing '__'"),
        ("def handle_bar(c, b):\n    open('/etc/passwd')\n", 2, 4, "use of 'open'"),
        ("def handle_bar(c, b):\n    return b.\n", 2, 13, "syntax error"),
        ("def initialize(c):\n    pass\n", 1, 0, "must define handle_bar(context, bars) or targets"),
        ("FACTORS = ['a', 1]\ndef handle_bar(c, b):\n    pass\n", 1, 0, "FACTORS must list factor names"),
    ],
)
def test_code_problems_carry_line_and_column(code: str, line: int, column: int, fragment: str) -> None:
    problems = validate_strategy(code, {}, {})
    assert any(p.line == line and p.column == column and fragment in p.message for p in problems), problems


def test_param_problems_name_the_field() -> None:
    problems = validate_strategy(GOOD, {"ratio": "high", "extra": 1}, SCHEMA)
    assert sorted(p.field for p in problems) == ["params.extra", "params.ratio", "params.window"]
    assert _where(validate_strategy(GOOD, {"window": 1}, SCHEMA)) == [(0, 0, "params.window")]
    assert validate_strategy(GOOD, {"window": True}, SCHEMA)[0].message == "param 'window' must be int, got bool"


def test_a_malformed_schema_is_reported() -> None:
    schema = {"n": {"type": "complex"}, "m": {"type": "int", "maxx": 3}, "k": {"type": "int"},
              "j": {"type": "int", "default": 1, "min": 2}}
    problems = validate_strategy(GOOD, {}, schema)
    assert [p.field for p in problems] == ["params.n", "params.m", "params.k", "params.j"]
    assert "needs a default unless it is required" in problems[2].message


def test_replies_are_validated_field_by_field() -> None:
    orders = parse_orders({"t": "orders", "o": [[1, 3, 0.5], [0, 0, -100], [1, 4, 10.0]]}, n_codes=2, first_id=7)
    assert [(o.id, o.code, o.kind, o.amount) for o in orders] == [
        (7, 1, OrderKind.TARGET_PERCENT, 0.5), (8, 0, OrderKind.SHARES, -100.0), (9, 1, OrderKind.TARGET_VALUE, 10.0)]
    bad = [
        {"t": "orders", "o": [[2, 0, 1.0]]},
        {"t": "orders", "o": [[True, 0, 1.0]]},
        {"t": "orders", "o": [[0, 0, float("inf")]]},
        {"t": "orders", "o": [[0, 2, -5.0]]},
        {"t": "orders", "o": [[0, 0]]},
        {"t": "orders", "o": [[0, 0, 1.0]] * 9},
        {"t": "ready"},
        {"t": "error", "r": "x" * 10_000},
    ]
    for message in bad:
        with pytest.raises(SandboxRunFailed) as caught:
            parse_orders(message, n_codes=2, first_id=1)
        assert len(caught.value.reason) < 2100
    with pytest.raises(SandboxRunFailed, match="expected ready"):
        parse_ready({"t": "orders", "o": []}, "handle_bar")
    with pytest.raises(SandboxRunFailed, match="unknown callback"):
        parse_ready({"t": "ready", "p": ["handle_bar", "on_tick"]}, "handle_bar")
