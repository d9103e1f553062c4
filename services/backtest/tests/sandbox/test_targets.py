"""The vectorised mode: targets(context) runs once in the child; its weights are validated, then the engine runs."""

from __future__ import annotations

import numpy as np
import pytest

from zquant_backtest.adapters.sandbox.messages import SandboxRunFailed, parse_weights
from zquant_backtest.adapters.sandbox.targets import SandboxTargets
from zquant_backtest.application.run_ports import StrategyCode
from zquant_backtest.application.vector_engine import VectorEngine, top_n_weights
from zquant_backtest.domain.simulation import RunSettings

from .conftest import FAST, synthetic_panel

TOP_ONE = '''
FACTORS = ["score"]

def targets(context):
    score = context.factor("score")
    month_start = context.dates.to_period("M") != context.dates.shift(-1, freq="D").to_period("M")
    weights = pd.DataFrame(np.nan, index=context.dates, columns=context.universe)
    for day in context.dates[:: context.params["every"]]:
        weights.loc[day] = 0.0
        weights.loc[day, score.loc[day].idxmax()] = context.params["invested"]
    assert len(month_start) == len(context.close)
    return weights
'''
SCHEMA = {"every": {"type": "int", "min": 1, "default": 2}, "invested": {"type": "float", "default": 0.9}}


def _weights(body: str) -> str:
    return "def targets(context):\n" + "\n".join("    " + line for line in body.splitlines()) + "\n"


@pytest.mark.sandbox
def test_weights_run_once_and_drive_the_vector_engine_like_an_in_process_panel() -> None:
    panel = synthetic_panel(8)
    score = np.tile(np.array([0.0, 2.0, 1.0]), (8, 1))
    score[4:] = [3.0, 0.0, 1.0]
    targets = SandboxTargets(StrategyCode(TOP_ONE, SCHEMA), FAST)
    assert targets.factors == ("score",)
    got = targets.weights(panel, {"score": score}, {"every": 2})
    assert got.rebalance.tolist() == [True, False] * 4
    engine = VectorEngine(panel, RunSettings(initial_cash=1_000_000.0))
    expected = top_n_weights(score, np.ones(panel.shape, bool), 1, got.rebalance, invested=0.9)
    np.testing.assert_array_equal(got.weights, expected)
    ours, theirs = engine.run_weights(got.weights, got.rebalance), engine.run_weights(expected, got.rebalance)
    np.testing.assert_array_equal(ours.equity.nav, theirs.equity.nav)


@pytest.mark.sandbox
def test_bad_weights_fail_with_the_reason() -> None:
    panel = synthetic_panel(4)
    cases = {
        "return np.full((4, 3), -0.1)": "must be ≥ 0",
        "return np.full((4, 3), 0.5)": "sum to 1.5",
        "w = np.zeros((4, 3))\nw[1, 1] = np.inf\nreturn w": "must be finite",
        "return np.zeros((3, 3))": "targets() returned shape (3, 3), expected (4, 3)",
        "return None": "returned shape ()",
    }
    for body, fragment in cases.items():
        with pytest.raises(SandboxRunFailed) as caught:
            SandboxTargets(StrategyCode(_weights(body), {}), FAST).weights(panel, {})
        assert fragment in caught.value.reason, (body, caught.value.reason)


@pytest.mark.sandbox
def test_a_missing_factor_or_a_per_day_module_is_refused() -> None:
    panel = synthetic_panel(3)
    with pytest.raises(SandboxRunFailed, match="not available: score"):
        SandboxTargets(StrategyCode(TOP_ONE, SCHEMA), FAST).weights(panel, {})
    with pytest.raises(SandboxRunFailed, match=r"must define targets\(\)"):
        SandboxTargets(StrategyCode("def handle_bar(c, b):\n    pass\n", {}), FAST).weights(panel, {})
    with pytest.raises(SandboxRunFailed, match="invalid params"):
        SandboxTargets(StrategyCode(TOP_ONE, SCHEMA), FAST).weights(panel, {"score": np.zeros(panel.shape)},
                                                                   {"every": 0})


@pytest.mark.unit
def test_weight_blocks_are_validated_row_by_row() -> None:
    rows = np.array([[np.nan, np.nan], [0.5, 0.5 + 1e-10], [0.0, 0.0]])
    weights, rebalance = parse_weights({"t": "weights"}, rows.astype("<f8").tobytes(), (3, 2))
    assert rebalance.tolist() == [False, True, True]
    np.testing.assert_array_equal(weights, rows)
    with pytest.raises(SandboxRunFailed, match="expected a weights block"):
        parse_weights({"t": "weights"}, b"\0" * 8, (3, 2))
    with pytest.raises(SandboxRunFailed, match="must be finite"):
        parse_weights({"t": "weights"}, np.array([[np.nan, 0.1]]).tobytes(), (1, 2))
