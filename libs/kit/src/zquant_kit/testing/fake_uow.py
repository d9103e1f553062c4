"""A transactional in-memory unit of work for unit tests: it works on a snapshot of the committed store.

`__aenter__` deep-copies the committed store; `commit()` makes the working copy the committed store and
publishes the events emitted since; leaving without committing (or `rollback()`) drops both, as a real
transaction would. Subclasses bind their fake repositories to the working copy in `_bind`.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, Self, TypeVar

from zquant_kit.events.model import Event


class FakeStore(Protocol):
    """What the base needs of a store: the (consumer, event id) pairs consumers have claimed."""

    processed: set[tuple[str, str]]


S = TypeVar("S", bound=FakeStore)
K = TypeVar("K")
V = TypeVar("V")


def delete_where(rows: dict[K, V], matches: Callable[[V], bool]) -> int:
    """A fake table's `DELETE ... WHERE`: drops the rows that match; returns how many."""
    gone = [key for key, row in rows.items() if matches(row)]
    for key in gone:
        del rows[key]
    return len(gone)


class DeletedUsersStore(Protocol):
    """A store that keeps tombstones of deleted users."""

    deleted_users: set[str]


class FakeDeletedUsers:
    """The deleted-users tombstone port over a store's `deleted_users`."""

    def __init__(self, store: DeletedUsersStore) -> None:
        self._store = store

    async def mark(self, user_id: str, at: dt.datetime) -> None:
        self._store.deleted_users.add(user_id)

    async def contains(self, user_id: str) -> bool:
        return user_id in self._store.deleted_users


@dataclass
class FakeDatabase(Generic[S]):
    """The committed state: `store`, the outbox `events` in commit order, and how many commits happened."""

    store: S
    events: list[Event] = field(default_factory=list)
    commits: int = 0

    def events_of(self, event_type: str) -> list[Event]:
        return [event for event in self.events if event.type == event_type]


class FakeUnitOfWork(Generic[S]):
    def __init__(self, database: FakeDatabase[S]) -> None:
        self.database = database
        self._pending: list[Event] = []

    def _bind(self, work: S) -> None:
        """Points the repositories at `work`; subclasses extend it and call super()."""
        self.work = work

    async def __aenter__(self) -> Self:
        self._bind(copy.deepcopy(self.database.store))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.rollback()

    def rollback(self) -> None:
        """Forgets everything since the last commit: the working copy and the events emitted."""
        self._pending = []
        self._bind(copy.deepcopy(self.database.store))

    def emit(self, event: Event) -> None:
        self._pending.append(event)

    async def claim(self, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self.work.processed:
            return False
        self.work.processed.add((consumer, event_id))
        return True

    async def commit(self) -> None:
        self.database.store = self.work
        self.database.events += self._pending
        self.database.commits += 1
        self._pending = []
        self._bind(copy.deepcopy(self.work))
