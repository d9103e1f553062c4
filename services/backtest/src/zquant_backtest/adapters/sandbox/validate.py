"""ValidateStrategy: static checks of the code and of its params against a schema, running nothing.

Schema: `{name: {"type": "int"|"float"|"bool"|"str", "min": x, "max": y, "required": bool, "choices": [...]}}`.
"""

from __future__ import annotations

import math
from typing import Any

from zquant_backtest.domain.params import InvalidParams, params_from_schema

from .child.static_check import Problem, check_source

_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


def validate_strategy(code: str, params: dict[str, Any], schema: dict[str, Any]) -> list[Problem]:
    """Every problem with the code (line/column) and with params (field), sorted code first."""
    return check_source(code) + check_schema(schema) + check_params(params, schema)


def check_schema(schema: dict[str, Any]) -> list[Problem]:
    """The schema itself must be well formed (as the engine will read it) before params can be held against it."""
    problems = []
    for name, spec in schema.items():
        try:
            params_from_schema({name: spec})
        except InvalidParams as exc:
            problems.append(_param(name, str(exc)))
    return problems


def check_params(params: dict[str, Any], schema: dict[str, Any]) -> list[Problem]:
    """Unknown, missing, mistyped or out-of-range params."""
    problems = [_param(k, f"unknown param '{k}'") for k in params if k not in schema]
    for name, spec in schema.items():
        if not isinstance(spec, dict) or spec.get("type") not in _TYPES:
            continue
        if name not in params:
            if spec.get("required", False):
                problems.append(_param(name, f"param '{name}' is required"))
            continue
        problems += _value_problems(name, params[name], spec)
    return problems


def _value_problems(name: str, value: Any, spec: dict[str, Any]) -> list[Problem]:
    kind = spec["type"]
    if not isinstance(value, _TYPES[kind]) or (kind != "bool" and isinstance(value, bool)):
        return [_param(name, f"param '{name}' must be {kind}, got {type(value).__name__}")]
    if isinstance(value, float) and not math.isfinite(value):
        return [_param(name, f"param '{name}' must be finite")]
    if "choices" in spec and value not in spec["choices"]:
        return [_param(name, f"param '{name}' must be one of {spec['choices']}")]
    if kind in ("int", "float"):
        if "min" in spec and value < spec["min"]:
            return [_param(name, f"param '{name}' = {value} is below the minimum {spec['min']}")]
        if "max" in spec and value > spec["max"]:
            return [_param(name, f"param '{name}' = {value} is above the maximum {spec['max']}")]
    return []


def _param(name: str, message: str) -> Problem:
    return Problem(0, 0, message, field=f"params.{name}")
