"""gRPC inbound adapter of WatchlistService: proto ↔ watchlist use cases.

Every RPC acts for the authenticated caller on the caller's own rows and needs `data:read`.
"""

from __future__ import annotations

from functools import partial

from zquant.marketdata.v1 import watchlist_pb2, watchlist_pb2_grpc
from zquant_kit import principal
from zquant_kit.grpc.convert import same_named, to_timestamp
from zquant_kit.pagination import Cursor, pair_cursor, single_cursor
from zquant_marketdata.application.watchlist import READ_PERMISSION, WatchlistUseCases
from zquant_marketdata.domain.sync import fmt_date
from zquant_marketdata.domain.watchlist import Favorite, ValuedPosition

FAVORITES: Cursor[Favorite, str] = single_cursor("watchlist.favorites", lambda f: f.ts_code)
POSITIONS: Cursor[ValuedPosition, tuple[str, str]] = pair_cursor(
    "watchlist.positions", lambda v: (v.position.ts_code, v.position.id)
)


def _favorite(favorite: Favorite) -> watchlist_pb2.Favorite:
    return watchlist_pb2.Favorite(
        ts_code=favorite.ts_code,
        comment=favorite.comment,
        create_time=to_timestamp(favorite.created_at),
        update_time=to_timestamp(favorite.updated_at),
    )


def _position(valued: ValuedPosition) -> watchlist_pb2.Position:
    p = valued.position
    return watchlist_pb2.Position(
        **same_named(p, "id", "ts_code", "quantity", "average_cost"),
        **same_named(valued, "market_value", "profit", "profit_pct"),
        buy_date=fmt_date(p.buy_date),
        last_close=valued.usable_close or 0.0,
        last_trade_date=fmt_date(valued.last_trade_date),
        create_time=to_timestamp(p.created_at),
        update_time=to_timestamp(p.updated_at),
    )


class WatchlistServicer(watchlist_pb2_grpc.WatchlistServiceServicer):
    def __init__(self, watchlist: WatchlistUseCases) -> None:
        self._watchlist = watchlist

    async def AddFavorite(self, request, context):
        actor = principal.require(READ_PERMISSION)
        found = await self._watchlist.add_favorite(actor, request.ts_code, request.comment)
        return watchlist_pb2.AddFavoriteResponse(favorite=_favorite(found))

    async def ListFavorites(self, request, context):
        actor = principal.require(READ_PERMISSION)
        favorites, token = await FAVORITES.page(request, partial(self._watchlist.list_favorites, actor))
        return watchlist_pb2.ListFavoritesResponse(favorites=[_favorite(f) for f in favorites], next_page_token=token)

    async def UpdateFavorite(self, request, context):
        actor = principal.require(READ_PERMISSION)
        found = await self._watchlist.update_favorite(actor, request.ts_code, request.comment)
        return watchlist_pb2.UpdateFavoriteResponse(favorite=_favorite(found))

    async def RemoveFavorite(self, request, context):
        actor = principal.require(READ_PERMISSION)
        await self._watchlist.remove_favorite(actor, request.ts_code)
        return watchlist_pb2.RemoveFavoriteResponse()

    async def AddPosition(self, request, context):
        actor = principal.require(READ_PERMISSION)
        valued = await self._watchlist.add_position(
            actor, request.ts_code, request.quantity, request.average_cost, request.buy_date
        )
        return watchlist_pb2.AddPositionResponse(position=_position(valued))

    async def ListPositions(self, request, context):
        actor = principal.require(READ_PERMISSION)
        positions, token = await POSITIONS.page(request, partial(self._watchlist.list_positions, actor))
        return watchlist_pb2.ListPositionsResponse(positions=[_position(v) for v in positions], next_page_token=token)

    async def UpdatePosition(self, request, context):
        actor = principal.require(READ_PERMISSION)
        valued = await self._watchlist.update_position(
            actor, request.position_id, request.quantity, request.average_cost, request.buy_date
        )
        return watchlist_pb2.UpdatePositionResponse(position=_position(valued))

    async def RemovePosition(self, request, context):
        actor = principal.require(READ_PERMISSION)
        await self._watchlist.remove_position(actor, request.position_id)
        return watchlist_pb2.RemovePositionResponse()
