"""params_from_schema: a stored strategy's dict schema as the engine's Params, and the engine's checks on it."""

from __future__ import annotations

import pytest

from zquant_backtest.domain.params import InvalidParams, Param, params_from_schema, validate_params

pytestmark = pytest.mark.unit


def test_every_key_maps_onto_a_param() -> None:
    schema = {
        "fast": {"type": "int", "min": 2, "max": 60, "default": 5, "description": "fast window"},
        "ratio": {"type": "float", "default": 1, "max": 2.5},
        "hedge": {"type": "bool", "default": False},
        "board": {"type": "str", "default": "main", "choices": ["main", "chinext"]},
        "top": {"type": "int", "required": True, "min": 1},
    }
    assert params_from_schema(schema) == [
        Param("fast", int, 5, minimum=2.0, maximum=60.0),
        Param("ratio", float, 1, maximum=2.5),
        Param("hedge", bool, False),
        Param("board", str, "main", choices=("main", "chinext")),
        Param("top", int, 0, minimum=1.0, required=True),
    ]


def test_the_engine_checks_given_values_against_the_converted_schema() -> None:
    schema = params_from_schema({"top": {"type": "int", "required": True, "min": 1},
                                 "ratio": {"type": "float", "default": 0.5, "max": 1.0}})
    assert validate_params(schema, {"top": 3}) == {"top": 3, "ratio": 0.5}
    with pytest.raises(InvalidParams, match="missing required parameters: top"):
        validate_params(schema, {"ratio": 0.2})
    with pytest.raises(InvalidParams, match="above its maximum"):
        validate_params(schema, {"top": 3, "ratio": 2.0})
    with pytest.raises(InvalidParams, match="top must be int"):
        validate_params(schema, {"top": True})


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"type": "complex", "default": 1}, "needs a type"),
        ([1, 2], "needs a type"),
        ({"type": "int", "default": 1, "maxx": 3}, "unknown keys ['maxx']"),
        ({"type": "int"}, "needs a default unless it is required"),
        ({"type": "int", "default": 1, "min": 2}, "below its minimum"),
        ({"type": "int", "default": "1"}, "must be int"),
        ({"type": "float", "default": 1.0, "max": float("nan")}, "finite numbers"),
        ({"type": "int", "default": 1, "min": True}, "finite numbers"),
        ({"type": "str", "default": "a", "choices": []}, "non-empty list"),
        ({"type": "str", "default": "z", "choices": ["a"]}, "is not one of"),
        ({"type": "int", "required": "yes"}, "true or false"),
    ],
)
def test_a_malformed_schema_names_the_param(spec: object, fragment: str) -> None:
    with pytest.raises(InvalidParams, match="n") as caught:
        params_from_schema({"n": spec})
    assert fragment in str(caught.value)
