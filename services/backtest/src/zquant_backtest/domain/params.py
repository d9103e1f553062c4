"""A strategy's declared parameters: types, bounds and defaults; unknown names and bad values are refused."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ParamValue = int | float | bool | str


class InvalidParams(ValueError):
    """The given parameters do not fit the strategy's schema."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: type[int] | type[float] | type[bool] | type[str]
    default: ParamValue
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[ParamValue, ...] | None = None
    required: bool = False
    """A required parameter must be given; its ``default`` is never used."""


_KINDS: dict[str, type[int] | type[float] | type[bool] | type[str]] = {
    "int": int, "float": float, "bool": bool, "str": str
}
_SPEC_KEYS = frozenset({"type", "min", "max", "required", "choices", "default", "description"})


def _checked(spec: Param, value: object) -> ParamValue:
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not spec.kind:
        raise InvalidParams(f"{spec.name} must be {spec.kind.__name__}, not {type(value).__name__}")
    assert isinstance(value, int | float | bool | str)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if spec.minimum is not None and value < spec.minimum:
            raise InvalidParams(f"{spec.name} = {value} is below its minimum {spec.minimum}")
        if spec.maximum is not None and value > spec.maximum:
            raise InvalidParams(f"{spec.name} = {value} is above its maximum {spec.maximum}")
    if spec.choices is not None and value not in spec.choices:
        raise InvalidParams(f"{spec.name} = {value!r} is not one of {spec.choices}")
    return value


def validate_params(schema: Sequence[Param], given: Mapping[str, object]) -> dict[str, ParamValue]:
    """Every declared parameter, from ``given`` or its default; the defaults are checked too."""
    declared = {spec.name: spec for spec in schema}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise InvalidParams(f"unknown parameters: {', '.join(unknown)}")
    missing = sorted(spec.name for spec in schema if spec.required and spec.name not in given)
    if missing:
        raise InvalidParams(f"missing required parameters: {', '.join(missing)}")
    return {name: _checked(spec, given.get(name, spec.default)) for name, spec in declared.items()}


def params_from_schema(schema: Mapping[str, object]) -> list[Param]:
    """The domain form of a stored strategy's dict schema
    (``{name: {"type", "min", "max", "default", "choices", "required", "description"}}``); a malformed schema
    raises ``InvalidParams`` naming the parameter."""
    return [_param_of(str(name), spec) for name, spec in schema.items()]


def _param_of(name: str, spec: object) -> Param:
    if not isinstance(spec, Mapping) or spec.get("type") not in _KINDS:
        raise InvalidParams(f"schema of {name} needs a type among {sorted(_KINDS)}")
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise InvalidParams(f"schema of {name} has unknown keys {unknown}")
    kind = _KINDS[spec["type"]]
    required = spec.get("required", False)
    if not isinstance(required, bool):
        raise InvalidParams(f"schema of {name}: required must be true or false")
    if "default" not in spec and not required:
        raise InvalidParams(f"schema of {name} needs a default unless it is required")
    choices = spec.get("choices")
    if choices is not None and not (isinstance(choices, list | tuple) and choices):
        raise InvalidParams(f"schema of {name}: choices must be a non-empty list")
    param = Param(
        name,
        kind,
        spec["default"] if "default" in spec else kind(),
        minimum=_bound(name, spec.get("min")),
        maximum=_bound(name, spec.get("max")),
        choices=None if choices is None else tuple(choices),
        required=required,
    )
    if not required:
        _checked(param, param.default)
    return param


def _bound(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidParams(f"schema of {name}: min and max must be finite numbers")
    return float(value)


def canonical_params(params: Mapping[str, ParamValue]) -> str:
    """One text per parameter set, for the fingerprint."""
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"), allow_nan=True)
