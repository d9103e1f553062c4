"""The caller unit tests act as when a use case needs an all-powerful admin."""

from __future__ import annotations

from collections.abc import Iterable

from zquant_kit.principal import Principal


def root_principal(permissions: Iterable[str], user_id: str = "admin-id") -> Principal:
    """An admin named `root` holding every permission the service defines."""
    return Principal(user_id, "root", "admin", frozenset(permissions))
