"""Who reaches a row: its owner, or an admin. Another user's row is NOT_FOUND, never PERMISSION_DENIED, so ids
taken from someone else reveal nothing."""

from __future__ import annotations

from typing import Protocol, TypeVar

from zquant_kit.errors import NotFound
from zquant_kit.principal import Principal


class Owned(Protocol):
    @property
    def owner_id(self) -> str: ...


R = TypeVar("R", bound=Owned)


def visible(record: R | None, actor: Principal, kind: str, name: str) -> R:
    if record is None or not (actor.is_admin or record.owner_id == actor.user_id):
        raise NotFound(kind, name)
    return record


def listing_owner(actor: Principal) -> str | None:
    """The owner a listing is limited to: none for an admin, who lists everyone's."""
    return None if actor.is_admin else actor.user_id
