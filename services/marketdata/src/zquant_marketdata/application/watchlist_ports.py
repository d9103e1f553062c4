"""Outbound ports of the watchlist use cases (implemented by the SQLAlchemy adapter, faked in unit tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from zquant_kit.clock import Clock as Clock  # the shared port, re-exported for this layer
from zquant_kit.events.model import Event
from zquant_marketdata.domain.watchlist import Favorite, Position, ValuedPosition


class FavoriteRepository(Protocol):
    async def add(self, favorite: Favorite) -> None:
        """Raises `AlreadyExists` when the user already has that code (a concurrent add lost the race)."""
        ...

    async def get(self, user_id: str, ts_code: str) -> Favorite | None: ...

    async def list_for_user(self, user_id: str, after: str | None, limit: int) -> Sequence[Favorite]:
        """Ordered by ts_code; `after` is the last ts_code of the previous page."""
        ...

    async def delete(self, favorite: Favorite) -> None: ...

    async def delete_for_user(self, user_id: str) -> int: ...


class PositionRepository(Protocol):
    async def add(self, position: Position) -> None: ...

    async def get(self, position_id: str) -> Position | None: ...

    async def valued(self, position_id: str) -> ValuedPosition | None:
        """The position with the latest close of its code (flushes pending changes first)."""
        ...

    async def list_valued(
        self, user_id: str, after: tuple[str, str] | None, limit: int
    ) -> Sequence[ValuedPosition]:
        """One statement for the whole page, ordered by (ts_code, id); `after` is the previous page's last key."""
        ...

    async def delete(self, position: Position) -> None: ...

    async def delete_for_user(self, user_id: str) -> int: ...


class StockCatalog(Protocol):
    async def exists(self, ts_code: str) -> bool:
        """Whether stock_basic knows the code (listed, delisted or paused)."""
        ...


class DeletedUsers(Protocol):
    """Tombstones of users identity deleted: their still-valid access tokens must not create rows again."""

    async def mark(self, user_id: str, at: dt.datetime) -> None: ...
    async def contains(self, user_id: str) -> bool: ...


class WatchlistUnitOfWork(Protocol):
    favorites: FavoriteRepository
    positions: PositionRepository
    stocks: StockCatalog
    deleted_users: DeletedUsers

    async def __aenter__(self) -> WatchlistUnitOfWork: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    def emit(self, event: Event) -> None: ...
    async def claim(self, consumer: str, event_id: str) -> bool:
        """True the first time this consumer sees the event; the mark commits with the effect."""
        ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> WatchlistUnitOfWork: ...

