"""Free text from clients, checked before it reaches storage: no NUL bytes, bounded length.

PostgreSQL refuses NUL in text columns and SQLite silently keeps it; either way it must not get that far.
The request validator rejects NUL for every field at the contract; use cases call `check_text` as well, so
they stay safe when called directly (tests, CLIs, other adapters).
"""

from __future__ import annotations

from zquant_kit.errors import InvalidArgument

NUL = "\x00"


def check_text(value: str, field: str, *, max_length: int | None = None) -> str:
    """`value` unchanged, or InvalidArgument naming `field` for a NUL byte or more than `max_length` characters."""
    if NUL in value:
        raise InvalidArgument(field, "must not contain NUL bytes")
    if max_length is not None and len(value) > max_length:
        raise InvalidArgument(field, f"at most {max_length} characters")
    return value


def storable(value: str, max_length: int) -> str:
    """For text that must be stored whatever its sender did (audit records, events from other services):
    NUL bytes become U+FFFD and the value is clamped to `max_length` characters, instead of being refused."""
    return value[:max_length].replace(NUL, "\ufffd")
