"""watchlist area wiring: favorites and positions (WatchlistService) and the user-deleted cleanup consumer."""

from __future__ import annotations

from zquant.marketdata.v1 import watchlist_pb2_grpc
from zquant_kit.clock import Clock
from zquant_kit.grpc.server import GrpcService
from zquant_kit.infrastructure import Infrastructure
from zquant_marketdata.adapters.grpc.watchlist_servicer import WatchlistServicer
from zquant_marketdata.adapters.sqlalchemy.watchlist_repository import (
    SqlAlchemyWatchlistUnitOfWork,
    map_watchlist,
)
from zquant_marketdata.application.watchlist import USER_CLEANUP_CONSUMER, USER_DELETED, WatchlistUseCases


def wire(infra: Infrastructure, clock: Clock, services: list[GrpcService]) -> WatchlistUseCases:
    map_watchlist()
    watchlist = WatchlistUseCases(infra.units_of_work(SqlAlchemyWatchlistUnitOfWork), clock)
    services.append(
        GrpcService(
            "zquant.marketdata.v1.WatchlistService",
            WatchlistServicer(watchlist),
            watchlist_pb2_grpc.add_WatchlistServiceServicer_to_server,
        )
    )
    infra.subscribe(USER_CLEANUP_CONSUMER, USER_DELETED, watchlist.on_user_deleted)
    return watchlist
