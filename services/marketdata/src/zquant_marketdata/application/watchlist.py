"""Watchlist use cases: per-user favorites and positions, and the cleanup when identity deletes a user.

Every row belongs to one user and is visible to that user only: someone else's position id is
NOT_FOUND, never PERMISSION_DENIED, so ids don't leak. Every call needs `data:read` as well.
"""

from __future__ import annotations

import uuid

from zquant.identity.v1 import events_pb2
from zquant_kit.errors import AlreadyExists, InvalidArgument, NotFound, Unauthenticated, found
from zquant_kit.events.model import Event
from zquant_kit.pagination import Page, fetch_page
from zquant_kit.principal import Principal
from zquant_marketdata.application.watchlist_ports import Clock, UnitOfWorkFactory, WatchlistUnitOfWork
from zquant_marketdata.domain import watchlist as rules
from zquant_marketdata.domain.watchlist import Favorite, Position, ValuedPosition

READ_PERMISSION = "data:read"
USER_DELETED = "identity.user.deleted.v1"
USER_CLEANUP_CONSUMER = "marketdata-user-cleanup"


class WatchlistUseCases:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    # -- favorites ---------------------------------------------------------------------------

    async def add_favorite(self, actor: Principal, ts_code: str, comment: str) -> Favorite:
        actor.require(READ_PERMISSION)
        ts_code = rules.check_ts_code(ts_code)
        comment = rules.check_comment(comment)
        async with self._uow() as uow:
            await self._not_deleted(uow, actor)
            await self._known_stock(uow, ts_code)
            if await uow.favorites.get(actor.user_id, ts_code) is not None:
                raise AlreadyExists("favorite", ts_code, "ts_code")
            now = self._clock.now()
            favorite = Favorite(actor.user_id, ts_code, comment, created_at=now, updated_at=now)
            await uow.favorites.add(favorite)
            await uow.commit()
            return favorite

    async def list_favorites(
        self, actor: Principal, after: str | None, limit: int
    ) -> Page[Favorite]:
        actor.require(READ_PERMISSION)
        async with self._uow() as uow:
            return await fetch_page(lambda n: uow.favorites.list_for_user(actor.user_id, after, n), limit)

    async def update_favorite(self, actor: Principal, ts_code: str, comment: str) -> Favorite:
        actor.require(READ_PERMISSION)
        ts_code = rules.check_ts_code(ts_code)
        comment = rules.check_comment(comment)
        async with self._uow() as uow:
            favorite = await self._own_favorite(uow, actor, ts_code)
            favorite.comment = comment
            favorite.updated_at = self._clock.now()
            await uow.commit()
            return favorite

    async def remove_favorite(self, actor: Principal, ts_code: str) -> None:
        actor.require(READ_PERMISSION)
        ts_code = rules.check_ts_code(ts_code)
        async with self._uow() as uow:
            await uow.favorites.delete(await self._own_favorite(uow, actor, ts_code))
            await uow.commit()

    # -- positions ---------------------------------------------------------------------------

    async def add_position(
        self, actor: Principal, ts_code: str, quantity: float, average_cost: float, buy_date: str
    ) -> ValuedPosition:
        actor.require(READ_PERMISSION)
        ts_code = rules.check_ts_code(ts_code)
        quantity = rules.check_quantity(quantity)
        average_cost = rules.check_average_cost(average_cost)
        now = self._clock.now()
        bought = rules.parse_buy_date(buy_date, now)
        async with self._uow() as uow:
            await self._not_deleted(uow, actor)
            await self._known_stock(uow, ts_code)
            position = Position(
                id=str(uuid.uuid4()),
                user_id=actor.user_id,
                ts_code=ts_code,
                quantity=quantity,
                average_cost=average_cost,
                buy_date=bought,
                created_at=now,
                updated_at=now,
            )
            await uow.positions.add(position)
            valued = await self._valued(uow, position)
            await uow.commit()
            return valued

    async def list_positions(
        self, actor: Principal, after: tuple[str, str] | None, limit: int
    ) -> Page[ValuedPosition]:
        actor.require(READ_PERMISSION)
        async with self._uow() as uow:
            return await fetch_page(lambda n: uow.positions.list_valued(actor.user_id, after, n), limit)

    async def update_position(
        self, actor: Principal, position_id: str, quantity: float, average_cost: float, buy_date: str
    ) -> ValuedPosition:
        """Replaces quantity, average cost and buy date (the request has no field mask); the code stays."""
        actor.require(READ_PERMISSION)
        if not position_id:
            raise InvalidArgument("position_id", "required")
        quantity = rules.check_quantity(quantity)
        average_cost = rules.check_average_cost(average_cost)
        now = self._clock.now()
        bought = rules.parse_buy_date(buy_date, now)
        async with self._uow() as uow:
            position = await self._own_position(uow, actor, position_id)
            position.quantity = quantity
            position.average_cost = average_cost
            position.buy_date = bought
            position.updated_at = now
            valued = await self._valued(uow, position)
            await uow.commit()
            return valued

    async def remove_position(self, actor: Principal, position_id: str) -> None:
        actor.require(READ_PERMISSION)
        if not position_id:
            raise InvalidArgument("position_id", "required")
        async with self._uow() as uow:
            await uow.positions.delete(await self._own_position(uow, actor, position_id))
            await uow.commit()

    # -- events ------------------------------------------------------------------------------

    async def on_user_deleted(self, event: Event) -> None:
        """identity.user.deleted.v1: the user's favorites and positions go, once per event."""
        message = event.decode(events_pb2.UserDeletedEvent)
        async with self._uow() as uow:
            if not await uow.claim(USER_CLEANUP_CONSUMER, event.id):
                return
            if message.user_id:
                await uow.favorites.delete_for_user(message.user_id)
                await uow.positions.delete_for_user(message.user_id)
                await uow.deleted_users.mark(message.user_id, self._clock.now())
            await uow.commit()

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    async def _not_deleted(uow: WatchlistUnitOfWork, actor: Principal) -> None:
        """A deleted user's access token lives on for minutes; it must not create rows nobody will clean up."""
        if await uow.deleted_users.contains(actor.user_id):
            raise Unauthenticated("account deleted", reason="ACCOUNT_DELETED")

    @staticmethod
    async def _known_stock(uow: WatchlistUnitOfWork, ts_code: str) -> None:
        if not await uow.stocks.exists(ts_code):
            raise NotFound("stock", ts_code)

    @staticmethod
    async def _own_favorite(uow: WatchlistUnitOfWork, actor: Principal, ts_code: str) -> Favorite:
        return found(await uow.favorites.get(actor.user_id, ts_code), "favorite", ts_code)

    @staticmethod
    async def _own_position(uow: WatchlistUnitOfWork, actor: Principal, position_id: str) -> Position:
        """Someone else's position is NOT_FOUND, exactly like an id that never existed."""
        found = await uow.positions.get(position_id)
        if found is None or found.user_id != actor.user_id:
            raise NotFound("position", position_id)
        return found

    @staticmethod
    async def _valued(uow: WatchlistUnitOfWork, position: Position) -> ValuedPosition:
        valued = await uow.positions.valued(position.id)
        return valued if valued is not None else ValuedPosition(position, None, None)
