"""The transactional fake unit of work unit tests drive use cases through.

A `FakeTransaction` works on a deep copy of its `FakeDatabase`'s store and `commit()` makes the copy the store,
so a use case that raises before committing leaves no trace, as with a real transaction. Event claims and
deleted-user tombstones live in the store, so they roll back with everything else.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Generic, Self, TypeVar

from zquant_kit.events.model import Event
from zquant_kit.testing.fake_uow import FakeDeletedUsers as FakeDeletedUsers


@dataclass
class FakeStore:
    """Services subclass this with their tables (dicts of records)."""

    processed: set[tuple[str, str]] = field(default_factory=set)
    deleted_users: set[str] = field(default_factory=set)


S = TypeVar("S", bound=FakeStore)


@dataclass
class FakeDatabase(Generic[S]):
    store: S
    commits: int = 0
    published: list[Event] = field(default_factory=list)

    def event_types(self) -> list[str]:
        return [event.type for event in self.published]


class FakeTransaction(Generic[S]):
    """Subclasses build their fake repositories on `work` in `open`."""

    def __init__(self, database: FakeDatabase[S]) -> None:
        self.database = database
        self.events: list[Event] = []

    def open(self, work: S) -> None:
        """Hook: attach repositories to the working copy."""

    async def __aenter__(self) -> Self:
        self.work = copy.deepcopy(self.database.store)
        self.events = []
        self.open(self.work)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def emit(self, event: Event) -> None:
        self.events.append(event)

    async def claim(self, consumer: str, event_id: str) -> bool:
        key = (consumer, event_id)
        if key in self.work.processed:
            return False
        self.work.processed.add(key)
        return True

    async def commit(self) -> None:
        self.database.store = self.work
        self.database.commits += 1
        self.database.published.extend(self.events)
        self.events = []
