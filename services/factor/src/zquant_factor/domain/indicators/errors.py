"""The one error the indicator engine raises for a bad parameter."""

from __future__ import annotations

import numbers

from zquant_kit.errors import InvalidArgument


class InvalidIndicatorParameter(InvalidArgument):
    """A calculator parameter is not an integer in its bounds; `field` names it, so the service can answer
    INVALID_ARGUMENT with a FieldViolation on that parameter."""


def check_period(field: str, value: object, *, minimum: int = 1, maximum: int | None = None) -> int:
    """`value` as an int in [minimum, maximum]; bools and floats are refused, not truncated."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidIndicatorParameter(field, f"must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise InvalidIndicatorParameter(field, f"must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InvalidIndicatorParameter(field, f"must be <= {maximum}, got {value}")
    return value
