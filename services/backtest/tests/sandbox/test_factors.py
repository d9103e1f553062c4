"""FACTORS: read statically by the parent, sent each day, served by `context.factor(name)` in the child."""

from __future__ import annotations

import numpy as np
import pytest

from zquant_backtest.adapters.sandbox.child.static_check import MAX_FACTORS, declared_factors
from zquant_backtest.adapters.sandbox.strategy import SandboxStrategyPort
from zquant_backtest.application.run_ports import StrategyCode
from zquant_backtest.domain.arrays import FloatArray

from .conftest import failure_of, run_strategy

FACTOR_STRATEGY = '''
FACTORS = ["momentum_20", "pe_ttm"]

def handle_bar(context, bars):
    momentum = context.factor("momentum_20")
    order_shares(momentum.idxmax(), float(momentum.max()))
    order_value(context.universe[0], float(context.factor("pe_ttm").sum()))
'''


def fake_factor(name: str, t: int) -> FloatArray:
    """momentum: 10 * t + code index; pe: NaN for code 0, else 1."""
    n = 3
    if name == "momentum_20":
        return 10.0 * t + np.arange(n)
    return np.array([np.nan, 1.0, 1.0])


@pytest.mark.unit
def test_factors_are_read_from_the_literal_without_running_anything() -> None:
    assert declared_factors("import numpy as np\nFACTORS = ('a', 'b.c')\n") == ["a", "b.c"]
    assert declared_factors("def handle_bar(c, b):\n    pass\n") == []
    port = SandboxStrategyPort(StrategyCode(FACTOR_STRATEGY, {}))
    assert port.factors == ("momentum_20", "pe_ttm")


@pytest.mark.unit
@pytest.mark.parametrize(
    "source",
    [
        "FACTORS = make_names()\n",
        "FACTORS = ['a', 3]\n",
        "FACTORS = ['']\n",
        f"FACTORS = [{', '.join(repr(f'f{i}') for i in range(MAX_FACTORS + 1))}]\n",
        "FACTORS = ['a', 'a']\n",
        "FACTORS = ['a']\nFACTORS = ['b']\n",
        "FACTORS = OTHER = ['a']\n",
    ],
)
def test_a_factor_declaration_that_is_not_a_small_literal_is_refused(source: str) -> None:
    with pytest.raises(ValueError, match="FACTORS"):
        declared_factors(source)


@pytest.mark.sandbox
def test_each_day_the_child_sees_that_days_declared_factors() -> None:
    days = run_strategy(FACTOR_STRATEGY, days=3, factor=fake_factor)
    assert [(d[0].code, d[0].amount) for d in days] == [(2, 2.0), (2, 12.0), (2, 22.0)]
    assert [d[1].amount for d in days] == [2.0, 2.0, 2.0]  # NaN stays NaN, pandas' sum skips it


@pytest.mark.sandbox
def test_an_undeclared_factor_or_a_missing_source_fails_the_run() -> None:
    undeclared = "FACTORS = ['a']\ndef handle_bar(context, bars):\n    context.factor('b')\n"
    assert "factor 'b' is not declared in FACTORS" in failure_of(undeclared, factor=fake_factor)
    reason = failure_of(FACTOR_STRATEGY)
    assert "factor 'momentum_20' declared in FACTORS is not available" in reason, reason
