"""AIP-158 page tokens: opaque, URL-safe keyset cursors."""

from __future__ import annotations

import base64
import json
from typing import Any

from zquant_kit.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def page_size(requested: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    if requested < 0:
        raise InvalidArgument("page_size", "must not be negative")
    if requested == 0:
        return default
    return min(requested, maximum)


def encode_cursor(kind: str, key: list[Any]) -> str:
    raw = json.dumps({"k": kind, "v": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, token: str) -> list[Any] | None:
    """`kind` ties a token to the list it came from, so tokens can't be replayed across RPCs."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data["k"] != kind or not isinstance(data["v"], list):
            raise ValueError(kind)
        return data["v"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("page_token", "invalid or expired page token") from None


def decode_string_cursor(kind: str, token: str, width: int) -> tuple[str, ...] | None:
    """A keyset cursor of `width` strings (e.g. (username,) or (created_at, id)); anything else is rejected."""
    key = decode_cursor(kind, token)
    if key is None:
        return None
    if len(key) != width or not all(isinstance(part, str) for part in key):
        raise InvalidArgument("page_token", "invalid or expired page token")
    return tuple(key)
