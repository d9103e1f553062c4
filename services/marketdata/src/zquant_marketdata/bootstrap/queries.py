"""queries area wiring: the read side (MarketDataService) over the service's engine."""

from __future__ import annotations

from zquant.marketdata.v1 import market_data_pb2_grpc
from zquant_kit.grpc.server import GrpcService
from zquant_kit.infrastructure import Infrastructure
from zquant_kit.limits import HeavyReadBounds, process_limiter
from zquant_kit.workers import WorkerProcesses
from zquant_marketdata.adapters.grpc.market_data_servicer import MarketDataServicer
from zquant_marketdata.adapters.sqlalchemy import sqlite_reads
from zquant_marketdata.adapters.sqlalchemy.query_repository import SqlMarketQueryRepository
from zquant_marketdata.application.queries import MarketQueries


def wire(infra: Infrastructure, heavy_reads: HeavyReadBounds, services: list[GrpcService]) -> MarketQueries:
    limiter = process_limiter(heavy_reads)
    # SQLite reads decode their rows in worker processes, one per heavy read that may run at once.
    workers = WorkerProcesses(limiter.bounds.concurrent, preload=[sqlite_reads.__name__])
    infra.on_stop(workers.close)
    market_queries = MarketQueries(SqlMarketQueryRepository(infra.engine, workers), limiter=limiter)
    services.append(
        GrpcService(
            "zquant.marketdata.v1.MarketDataService",
            MarketDataServicer(market_queries),
            market_data_pb2_grpc.add_MarketDataServiceServicer_to_server,
        )
    )
    return market_queries
