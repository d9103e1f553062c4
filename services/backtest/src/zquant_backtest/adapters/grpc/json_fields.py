"""JSON-object request fields (params, schemas) parsed once, refused on the field they came in."""

from __future__ import annotations

import json
import math
from typing import Any

from zquant_kit.errors import InvalidArgument


def _finite(text: str) -> float:
    raise ValueError(f"{text} is not a number JSON allows")


def json_object(text: str, field: str) -> dict[str, Any]:
    """Empty text is the empty object; anything but an object (or NaN / Infinity) is INVALID_ARGUMENT."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_finite)
    except (ValueError, RecursionError) as exc:
        raise InvalidArgument(field, f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidArgument(field, "must be a JSON object")
    for name, item in value.items():
        if isinstance(item, float) and not math.isfinite(item):
            raise InvalidArgument(field, f"{name} must be finite")
    return value


def json_text(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
