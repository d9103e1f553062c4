"""watchlist area wiring: favorites and positions (WatchlistService) and the user-deleted cleanup consumer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zquant.marketdata.v1 import watchlist_pb2_grpc
from zquant_kit.grpc.server import GrpcService
from zquant_marketdata.adapters.grpc.watchlist_servicer import WatchlistServicer
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.watchlist_repository import (
    SqlAlchemyWatchlistUnitOfWork,
    map_watchlist,
)
from zquant_marketdata.application.watchlist import USER_CLEANUP_CONSUMER, USER_DELETED, WatchlistUseCases

if TYPE_CHECKING:
    from zquant_marketdata.bootstrap import MarketDataApp


def wire(app: MarketDataApp) -> WatchlistUseCases:
    map_watchlist()
    watchlist = WatchlistUseCases(
        lambda: SqlAlchemyWatchlistUnitOfWork(app.sessions, tables.outbox, app.relay.wake), app.clock
    )
    app.grpc_services.append(
        GrpcService(
            "zquant.marketdata.v1.WatchlistService",
            WatchlistServicer(watchlist),
            watchlist_pb2_grpc.add_WatchlistServiceServicer_to_server,
        )
    )

    async def subscribe() -> None:
        await app.bus.subscribe(USER_CLEANUP_CONSUMER, USER_DELETED, watchlist.on_user_deleted)

    app.on_start(subscribe)
    return watchlist
