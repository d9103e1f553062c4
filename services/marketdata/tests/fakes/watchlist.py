"""Watchlist use cases against in-memory fakes of their ports (application/watchlist_ports.py).

The unit of work is the kit's transactional `FakeUnitOfWork`: it works on a deep copy of the store and
`commit()` makes the copy the store, so a use case that raises before committing leaves no trace.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from google.protobuf import timestamp_pb2

from zquant.identity.v1 import events_pb2
from zquant_kit.errors import AlreadyExists
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal
from zquant_kit.testing import FakeClock, FakeDatabase, FakeDeletedUsers, delete_where
from zquant_kit.testing import FakeUnitOfWork as TransactionalFakeUnitOfWork
from zquant_marketdata.application.watchlist import USER_DELETED, WatchlistUseCases
from zquant_marketdata.domain.watchlist import Favorite, Position, ValuedPosition

NOW = dt.datetime(2024, 6, 3, 8, 0, tzinfo=dt.UTC)  # 16:00 in Beijing, Monday 2024-06-03


@dataclass
class Store:
    stocks: set[str] = field(default_factory=set)
    bars: dict[str, dict[dt.date, float]] = field(default_factory=dict)
    favorites: dict[tuple[str, str], Favorite] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    processed: set[tuple[str, str]] = field(default_factory=set)
    deleted_users: set[str] = field(default_factory=set)


class FakeFavorites:
    def __init__(self, store: Store) -> None:
        self._s = store

    async def add(self, favorite: Favorite) -> None:
        key = (favorite.user_id, favorite.ts_code)
        if key in self._s.favorites:
            raise AlreadyExists("favorite", favorite.ts_code, "ts_code")
        self._s.favorites[key] = favorite

    async def get(self, user_id: str, ts_code: str) -> Favorite | None:
        return self._s.favorites.get((user_id, ts_code))

    async def list_for_user(self, user_id: str, after: str | None, limit: int) -> list[Favorite]:
        mine = sorted((f for f in self._s.favorites.values() if f.user_id == user_id), key=lambda f: f.ts_code)
        return [f for f in mine if after is None or f.ts_code > after][:limit]

    async def delete(self, favorite: Favorite) -> None:
        del self._s.favorites[(favorite.user_id, favorite.ts_code)]

    async def delete_for_user(self, user_id: str) -> int:
        return delete_where(self._s.favorites, lambda f: f.user_id == user_id)


class FakePositions:
    def __init__(self, store: Store, holder: World) -> None:
        self._s = store
        self._holder = holder

    def _value(self, position: Position) -> ValuedPosition:
        bars = self._s.bars.get(position.ts_code)
        if not bars:
            return ValuedPosition(position, None, None)
        latest = max(bars)
        return ValuedPosition(position, bars[latest], latest)

    async def add(self, position: Position) -> None:
        self._s.positions[position.id] = position

    async def get(self, position_id: str) -> Position | None:
        return self._s.positions.get(position_id)

    async def valued(self, position_id: str) -> ValuedPosition | None:
        position = self._s.positions.get(position_id)
        return None if position is None else self._value(position)

    async def list_valued(self, user_id: str, after: tuple[str, str] | None, limit: int) -> list[ValuedPosition]:
        self._holder.list_calls += 1
        mine = sorted(
            (p for p in self._s.positions.values() if p.user_id == user_id), key=lambda p: (p.ts_code, p.id)
        )
        return [self._value(p) for p in mine if after is None or (p.ts_code, p.id) > after][:limit]

    async def delete(self, position: Position) -> None:
        del self._s.positions[position.id]

    async def delete_for_user(self, user_id: str) -> int:
        return delete_where(self._s.positions, lambda p: p.user_id == user_id)


class FakeStocks:
    def __init__(self, store: Store) -> None:
        self._s = store

    async def exists(self, ts_code: str) -> bool:
        return ts_code in self._s.stocks


class FakeUnitOfWork(TransactionalFakeUnitOfWork[Store]):
    def __init__(self, world: World) -> None:
        super().__init__(world)
        self._world = world

    def _bind(self, work: Store) -> None:
        super()._bind(work)
        self.favorites = FakeFavorites(work)
        self.positions = FakePositions(work, self._world)
        self.stocks = FakeStocks(work)
        self.deleted_users = FakeDeletedUsers(work)


@dataclass
class World(FakeDatabase[Store]):
    """The committed store (`events` are the published ones), the clock, and how often positions were listed."""

    store: Store = field(default_factory=Store)
    list_calls: int = 0
    clock: FakeClock = field(default_factory=lambda: FakeClock(NOW))

    @property
    def use_cases(self) -> WatchlistUseCases:
        return WatchlistUseCases(lambda: FakeUnitOfWork(self), self.clock)


def actor(user_id: str, permissions: frozenset[str] = frozenset({"data:read"})) -> Principal:
    return Principal(user_id=user_id, username=user_id, role="researcher", permissions=permissions)


BOB = actor("bob-id")
ALICE = actor("alice-id")


def user_deleted(user_id: str, event_id: str = "evt-1") -> Event:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(NOW)
    message = events_pb2.UserDeletedEvent(user_id=user_id, occur_time=stamp)
    return Event(id=event_id, type=USER_DELETED, payload=message.SerializeToString(), occurred_at=NOW)
