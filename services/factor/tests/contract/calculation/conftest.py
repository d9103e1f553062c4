"""identity + marketdata + factor in one process on a throw-away PostgreSQL database, the sample market synced
through SyncService, and a researcher with a bearer token: the `calc` fixture, and `calculation_stack` for
tests that pick their own settings or restart the stack on the same database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest

from zquant.factor.v1 import calculation_pb2_grpc, factor_pb2_grpc
from zquant.marketdata.v1 import market_data_pb2, market_data_pb2_grpc, sync_pb2, sync_pb2_grpc
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.settings import Settings
from zquant_kit.testing import (
    USER_PASSWORD,
    Metadata,
    StackClient,
    admin_metadata,
    create_user,
    running_stack,
    services,
    sign_in,
    stack_settings,
)

SAMPLE_STOCKS = 20
SAMPLE_DAYS = 120
BARS = ("stock_basic", "trade_cal", "daily", "adj_factor")
"""What the factor service reads: the universe with its industries, the calendar, bars and adjustment factors
(syncing only these skips the sample market's other datasets, most of a full sync's time)."""


@dataclass
class CalculationClient:
    client: StackClient
    factors: factor_pb2_grpc.FactorServiceStub
    calculations: calculation_pb2_grpc.FactorCalculationServiceStub
    researcher: Metadata
    start: str
    end: str
    days: tuple[str, ...]
    """The sample market's open days, YYYYMMDD ascending."""

    @property
    def app(self):
        return self.client.app("factor")


def calculation_settings(database: str, **extra: str) -> Settings:
    return stack_settings(
        database,
        "identity",
        "marketdata",
        "factor",
        ZQUANT_MARKETDATA_SOURCE="sample",
        ZQUANT_SAMPLE_STOCKS=str(SAMPLE_STOCKS),
        ZQUANT_SAMPLE_DAYS=str(SAMPLE_DAYS),
        ZQUANT_FACTOR_WORKERS="1",
        **extra,
    )


@contextlib.asynccontextmanager
async def calculation_stack(
    settings: Settings, *, sync: bool = True, datasets: Sequence[str] = ()
) -> AsyncIterator[CalculationClient]:
    """The stack on `settings`; `sync` first syncs the sample market's `datasets` (empty: all; a restart on the
    same database skips it). The researcher is `rita`, created on the first start, signed in on a restart."""
    stack = services("identity", "marketdata", "factor")
    async with running_stack(stack, settings, bus=InProcessEventBus()) as client:
        admin = await admin_metadata(client.channel("identity"))
        if sync:
            request = sync_pb2.StartSyncRequest(datasets=list(datasets))
            replies = [r.progress async for r in sync_stub(client).StartSync(request, metadata=admin)]
            assert replies[-1].state == "succeeded", replies[-1]
        market = market_data_pb2_grpc.MarketDataServiceStub(client.channel("marketdata"))
        calendar = await market.GetTradeCalendar(
            market_data_pb2.GetTradeCalendarRequest(
                start_date="19900101", end_date="21001231", open_only=True
            ),
            metadata=admin,
        )
        days = sorted(day.cal_date for day in calendar.days)
        if sync:
            _, researcher = await create_user(client.channel("identity"), "rita", role="researcher")
        else:
            researcher = await sign_in(client.channel("identity"), "rita", USER_PASSWORD)
        channel = client.channel("factor")
        yield CalculationClient(
            client,
            factor_pb2_grpc.FactorServiceStub(channel),
            calculation_pb2_grpc.FactorCalculationServiceStub(channel),
            researcher,
            days[0],
            days[-1],
            tuple(days),
        )


def sync_stub(client: StackClient) -> sync_pb2_grpc.SyncServiceStub:
    return sync_pb2_grpc.SyncServiceStub(client.channel("marketdata"))


@pytest.fixture
async def calc(migrated_pg_database):
    async with calculation_stack(calculation_settings(migrated_pg_database), datasets=BARS) as client:
        yield client
