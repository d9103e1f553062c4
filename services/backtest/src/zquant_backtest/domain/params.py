"""A strategy's declared parameters: types, bounds and defaults; unknown names and bad values are refused."""

from __future__ import annotations

import json
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
    choices: tuple[str, ...] | None = None


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
    return {name: _checked(spec, given.get(name, spec.default)) for name, spec in declared.items()}


def canonical_params(params: Mapping[str, ParamValue]) -> str:
    """One text per parameter set, for the fingerprint."""
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"), allow_nan=True)
