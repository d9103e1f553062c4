"""JSON-object request fields (params, schemas) parsed once, refused on the field they came in."""

from __future__ import annotations

import json
import math
from typing import Any

from zquant_kit.errors import InvalidArgument


def _constant(text: str) -> float:
    raise ValueError(f"{text} is not a number JSON allows")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _check_strings(value: Any) -> None:
    """Stored as JSON text later: a NUL escaped into a string is refused here, as in every other field."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("strings must not contain a NUL character")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def json_object(text: str, field: str) -> dict[str, Any]:
    """Empty text is the empty object; anything but an object (or a NaN, an infinity, a NUL) is INVALID_ARGUMENT."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float)
        _check_strings(value)
    except (ValueError, RecursionError) as exc:
        raise InvalidArgument(field, f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidArgument(field, "must be a JSON object")
    return value


def json_text(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
