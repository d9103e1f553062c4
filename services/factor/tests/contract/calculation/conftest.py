"""identity + marketdata + factor in one process on a throw-away PostgreSQL database, the sample market synced
through SyncService, and a researcher with a bearer token."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from zquant.factor.v1 import calculation_pb2_grpc, factor_pb2_grpc
from zquant.marketdata.v1 import market_data_pb2, market_data_pb2_grpc, sync_pb2, sync_pb2_grpc
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.settings import Settings
from zquant_kit.testing import (
    ADMIN_PASSWORD,
    Metadata,
    StackClient,
    admin_metadata,
    create_user,
    running_stack,
    services,
)

SAMPLE_STOCKS = 20
SAMPLE_DAYS = 120


@dataclass
class CalculationClient:
    client: StackClient
    factors: factor_pb2_grpc.FactorServiceStub
    calculations: calculation_pb2_grpc.FactorCalculationServiceStub
    researcher: Metadata
    start: str
    end: str

    @property
    def app(self):
        return self.client.app("factor")


@pytest.fixture
async def calc(pg_database):
    settings = Settings(
        {
            **{
                f"ZQUANT_{name.upper()}_DATABASE_URL": pg_database
                for name in ("identity", "marketdata", "factor")
            },
            "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ZQUANT_EVENT_BUS": "inprocess",
            "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
            "ZQUANT_MARKETDATA_SOURCE": "sample",
            "ZQUANT_SAMPLE_STOCKS": str(SAMPLE_STOCKS),
            "ZQUANT_SAMPLE_DAYS": str(SAMPLE_DAYS),
            "ZQUANT_FACTOR_WORKERS": "1",
        }
    )
    stack = services("identity", "marketdata", "factor")
    async with running_stack(stack, settings, bus=InProcessEventBus()) as client:
        admin = await admin_metadata(client.channel("identity"))
        sync = sync_pb2_grpc.SyncServiceStub(client.channel("marketdata"))
        replies = [r.progress async for r in sync.StartSync(sync_pb2.StartSyncRequest(), metadata=admin)]
        assert replies[-1].state == "succeeded", replies[-1]
        market = market_data_pb2_grpc.MarketDataServiceStub(client.channel("marketdata"))
        calendar = await market.GetTradeCalendar(
            market_data_pb2.GetTradeCalendarRequest(
                start_date="19900101", end_date="21001231", open_only=True
            ),
            metadata=admin,
        )
        days = sorted(day.cal_date for day in calendar.days)
        _, researcher = await create_user(client.channel("identity"), "rita", role="researcher")
        channel = client.channel("factor")
        yield CalculationClient(
            client,
            factor_pb2_grpc.FactorServiceStub(channel),
            calculation_pb2_grpc.FactorCalculationServiceStub(channel),
            researcher,
            days[0],
            days[-1],
        )
