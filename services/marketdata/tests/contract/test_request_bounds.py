"""Bounds declared in the proto reach the client before any handler runs: INVALID_ARGUMENT, one FieldViolation
per bad field, a short message, and nothing of the bad input beyond about a hundred characters."""

from __future__ import annotations

import math

import grpc
import pytest
from google.rpc import error_details_pb2

from zquant.marketdata.v1 import market_data_pb2, sync_pb2, watchlist_pb2
from zquant_kit.testing import detail

pytestmark = pytest.mark.contract

HUGE = "x" * 10_000_000


async def refused(call) -> dict[str, str]:
    """Awaits a call that must fail INVALID_ARGUMENT; returns its violations, field → description."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = caught.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert len(error.details()) <= 200
    bad_request = detail(error, error_details_pb2.BadRequest)
    found = {v.field: v.description for v in bad_request.field_violations}
    assert len(found) == len(bad_request.field_violations), "one violation per field"
    assert all(len(text) <= 120 for text in found.values())
    return found


async def test_bad_market_data_requests_name_their_fields(marketdata):
    admin = await marketdata.admin()
    market = marketdata.market
    found = await refused(
        market.GetBars(
            market_data_pb2.GetBarsRequest(ts_codes=["600000.SH"], start_date="20240101", end_date="99991231"),
            metadata=admin,
        )
    )
    assert found == {"end_date": "must be a calendar date YYYYMMDD between 19900101 and 21001231"}
    found = await refused(
        market.GetBars(market_data_pb2.GetBarsRequest(ts_codes=["600000.SH"] * 100_000), metadata=admin)
    )
    assert list(found) == ["ts_codes"]
    found = await refused(
        market.GetBars(market_data_pb2.GetBarsRequest(ts_codes=["600000.SH"], adjust=7), metadata=admin)
    )
    assert list(found) == ["adjust"]
    found = await refused(market.ListStocks(market_data_pb2.ListStocksRequest(query=HUGE), metadata=admin))
    assert found == {"query": "must be at most 64 characters"}
    found = await refused(
        market.GetPanel(
            market_data_pb2.GetPanelRequest(ts_codes=["60000\x00.SH"], start_date="2024013", end_date="20240131"),
            metadata=admin,
        ).read()
    )
    assert set(found) == {"ts_codes[0]", "start_date"}


async def test_bad_numbers_are_refused_before_they_are_stored(marketdata):
    admin = await marketdata.admin()
    for rate in (math.inf, math.nan, 1e-9):
        found = await refused(
            marketdata.sync.SetSourceConfig(sync_pb2.SetSourceConfigRequest(calls_per_minute=rate), metadata=admin)
        )
        assert list(found) == ["calls_per_minute"]
    found = await refused(
        marketdata.watchlist.AddPosition(
            watchlist_pb2.AddPositionRequest(ts_code="600000.SH", quantity=1e308, average_cost=-math.inf),
            metadata=admin,
        )
    )
    assert set(found) == {"quantity", "average_cost"}
    found = await refused(
        marketdata.watchlist.AddFavorite(
            watchlist_pb2.AddFavoriteRequest(ts_code="600000.SH", comment="nul\x00" + HUGE), metadata=admin
        )
    )
    assert found == {"comment": "must be at most 500 characters; must not contain a NUL character"}
    config = await marketdata.sync.GetSourceConfig(sync_pb2.GetSourceConfigRequest(), metadata=admin)
    assert math.isfinite(config.calls_per_minute) and config.calls_per_minute >= 1
