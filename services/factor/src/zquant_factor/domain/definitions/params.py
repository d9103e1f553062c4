"""Model parameters checked against the calculator's schema: every violation names `params.<name>`."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from zquant_factor.domain.definitions.records import Params, ParamValue
from zquant_kit.errors import InvalidArgument


class ParamType(enum.Enum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    """A switch, e.g. BOLL's sample-std option; bounds do not apply."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a calculator: its type, inclusive bounds (None is unbounded) and default."""

    name: str
    type: ParamType
    minimum: ParamValue | None
    maximum: ParamValue | None
    default: ParamValue


def _problem(spec: ParamSpec, value: object) -> str | None:
    """Why `value` does not fit `spec`, or None when it does."""
    if spec.type is ParamType.BOOL:
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be {'an integer' if spec.type is ParamType.INT else 'a number'}"
    if not math.isfinite(value):
        return "must be finite"
    if spec.type is ParamType.INT and value != int(value):
        return "must be an integer"
    low, high = spec.minimum, spec.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"from {low if low is not None else '-inf'} to {high if high is not None else 'inf'}"
        return f"must be {bounds}"
    return None


def _typed(kind: ParamType, value: ParamValue) -> ParamValue:
    if kind is ParamType.BOOL:
        return bool(value)
    return int(value) if kind is ParamType.INT else float(value)


def check_params(schema: Sequence[ParamSpec], params: Mapping[str, object], field: str = "params") -> Params:
    """The complete parameter set: given values checked and typed, missing ones filled from their defaults.

    All violations are reported at once; a name the schema lacks is one of them."""
    specs = {spec.name: spec for spec in schema}
    violations = [(f"{field}.{name}", "unknown parameter") for name in params if name not in specs]
    checked: Params = {}
    for name, spec in specs.items():
        value = params.get(name, spec.default)
        problem = _problem(spec, value)
        if problem is not None:
            violations.append((f"{field}.{name}", problem))
            continue
        assert isinstance(value, int | float)
        checked[name] = _typed(spec.type, value)
    if violations:
        raise InvalidArgument.of(violations)
    return checked
