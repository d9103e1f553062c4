"""The calculator registry: parameter schemas with defaults and bounds, refusals naming the parameter."""

from __future__ import annotations

import numpy as np
import pytest

from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter
from zquant_factor.domain.indicators.registry import CALCULATORS, calculator

pytestmark = pytest.mark.unit


def test_validate_fills_defaults() -> None:
    assert calculator("macd").validate({"slow": 30}) == {"fast": 12, "slow": 30, "signal": 9}
    assert calculator("boll").validate({}) == {"n": 20, "width": 2.0, "sample_std": False}


@pytest.mark.parametrize(
    ("code", "params", "field"),
    [
        ("macd", {"fast": 0}, "fast"),
        ("kdj", {"n": "9"}, "n"),
        ("rsi", {"n": 1001}, "n"),
        ("boll", {"width": 50}, "width"),
        ("boll", {"sample_std": 1}, "sample_std"),
        ("cci", {"period": 14}, "period"),
    ],
)
def test_bad_params_are_refused_naming_the_parameter(
    code: str, params: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidIndicatorParameter) as caught:
        calculator(code).validate(params)
    assert caught.value.field == field


def test_unknown_model_code_is_refused() -> None:
    with pytest.raises(InvalidIndicatorParameter) as caught:
        calculator("supertrend")
    assert caught.value.field == "model_code"


def test_every_calculator_runs_on_its_inputs_with_default_params_and_gives_its_outputs() -> None:
    rng = np.random.default_rng(1)
    close = 10 + rng.standard_normal((60, 3)).cumsum(axis=0) * 0.1
    bars = {
        "open": close, "high": close + 0.1, "low": close - 0.1, "close": close, "pre_close": close,
        "vol": np.full_like(close, 1e4), "amount": np.full_like(close, 1e6),
        "turnover_rate": np.full_like(close, 3.0), "total_mv": np.full_like(close, 1e6),
    }  # fmt: skip
    for code, calc in CALCULATORS.items():
        result = calc.run(bars, {})
        assert set(result.values) == set(calc.outputs), code
        assert all(panel.shape == close.shape for panel in result.values.values()), code
        assert bool(result.state) == calc.resumable, code


def test_a_missing_input_panel_is_named() -> None:
    with pytest.raises(InvalidIndicatorParameter) as caught:
        calculator("kdj").run({"close": np.ones((3, 1))}, {})
    assert caught.value.field == "high"
