"""What user reads return, and a short-lived cache of them for the hot `GetMe` path."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass

from zquant_identity.application.ports import Clock
from zquant_identity.domain.model import User


@dataclass(frozen=True)
class UserView:
    user: User
    permissions: list[str]


class ProfileCache:
    """Local writes invalidate at once; the TTL bounds how stale another replica's writes can look."""

    def __init__(
        self, clock: Clock, ttl: dt.timedelta = dt.timedelta(seconds=2), max_entries: int = 10_000
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[UserView, dt.datetime]] = OrderedDict()

    def get(self, user_id: str) -> UserView | None:
        found = self._entries.get(user_id)
        if found is None:
            return None
        if found[1] <= self._clock.now():
            del self._entries[user_id]
            return None
        return found[0]

    def put(self, view: UserView) -> None:
        self._entries[view.user.id] = (view, self._clock.now() + self._ttl)
        self._entries.move_to_end(view.user.id)
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def invalidate(self, user_id: str) -> None:
        self._entries.pop(user_id, None)

    def clear(self) -> None:
        self._entries.clear()
