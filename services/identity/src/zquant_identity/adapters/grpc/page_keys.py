"""Page-token keys of identity's list RPCs: one string, or (ISO time, id)."""

from __future__ import annotations

import datetime as dt

from zquant_kit import pagination
from zquant_kit.errors import InvalidArgument


def single_key(kind: str, token: str) -> str | None:
    key = pagination.decode_string_cursor(kind, token, 1)
    return key[0] if key else None


def pair_key(kind: str, token: str) -> tuple[str, str] | None:
    """(ISO time, id) cursors; the time must parse, or the query would fail later."""
    key = pagination.decode_string_cursor(kind, token, 2)
    if key is None:
        return None
    try:
        dt.datetime.fromisoformat(key[0])
    except ValueError:
        raise InvalidArgument("page_token", "invalid or expired page token") from None
    return key
