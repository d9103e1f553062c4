"""The service credential on marketdata: trusted services (factor's auto-update, the backtest workers) read the
shared market data as themselves, and nothing else: no watchlist or position, no sync, no write."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from services.marketdata.tests.contract.bank_market import BANKS
from zquant.marketdata.v1 import market_data_pb2, sync_pb2
from zquant.marketdata.v1 import watchlist_pb2 as wl
from zquant_kit.grpc.panel_codec import read_panel
from zquant_kit.service_credential import load_service_secret, service_metadata
from zquant_kit.testing import expect_error

pytestmark = pytest.mark.contract


@pytest.fixture
def as_service(marketdata_settings) -> tuple[tuple[str, str], ...]:
    return service_metadata(load_service_secret(marketdata_settings))


async def test_a_service_reads_panels_bars_stocks_and_the_calendar(market, as_service) -> None:
    m = market.market
    request = market_data_pb2.GetPanelRequest(
        ts_codes=BANKS, start_date="20230103", end_date="20230110", fields=["close", "adj_factor"]
    )
    codes, days, values = await read_panel(m.GetPanel(request, metadata=as_service))
    by_viewer = await read_panel(m.GetPanel(request, metadata=market.viewer))
    assert codes == by_viewer[0] == BANKS and np.array_equal(days, by_viewer[1])
    np.testing.assert_array_equal(values["close"], by_viewer[2]["close"])
    bars = await m.GetBars(
        market_data_pb2.GetBarsRequest(ts_codes=BANKS[:1], start_date="20230103", end_date="20230110"),
        metadata=as_service,
    )
    assert len(bars.bars) == days.size
    stocks = await m.ListStocks(market_data_pb2.ListStocksRequest(page_size=100), metadata=as_service)
    assert set(BANKS) <= {stock.ts_code for stock in stocks.stocks}
    calendar = await m.GetTradeCalendar(
        market_data_pb2.GetTradeCalendarRequest(start_date="20230103", end_date="20230110", open_only=True),
        metadata=as_service,
    )
    assert len(calendar.days) == days.size


async def test_a_service_cannot_read_a_users_watchlist_nor_sync(market, as_service) -> None:
    viewer = market.viewer
    await market.watchlist.AddFavorite(wl.AddFavoriteRequest(ts_code=BANKS[0]), metadata=viewer)
    added = await market.watchlist.AddPosition(
        wl.AddPositionRequest(ts_code=BANKS[0], quantity=100, average_cost=5.0), metadata=viewer
    )
    position_id = added.position.id
    stub = market.watchlist
    per_user = [
        (stub.ListFavorites, wl.ListFavoritesRequest()),
        (stub.AddFavorite, wl.AddFavoriteRequest(ts_code=BANKS[1])),
        (stub.UpdateFavorite, wl.UpdateFavoriteRequest(ts_code=BANKS[0], comment="x")),
        (stub.RemoveFavorite, wl.RemoveFavoriteRequest(ts_code=BANKS[0])),
        (stub.ListPositions, wl.ListPositionsRequest()),
        (stub.AddPosition, wl.AddPositionRequest(ts_code=BANKS[1], quantity=1, average_cost=1)),
        (stub.UpdatePosition, wl.UpdatePositionRequest(position_id=position_id, quantity=1, average_cost=1)),
        (stub.RemovePosition, wl.RemovePositionRequest(position_id=position_id)),
    ]
    for rpc, request in per_user:
        denied = await expect_error(rpc(request, metadata=as_service), grpc.StatusCode.PERMISSION_DENIED)
        assert "data:read" in denied.message
    sync = market.sync
    for call in (
        lambda: sync.CancelSync(sync_pb2.CancelSyncRequest(run_id="x"), metadata=as_service),
        lambda: sync.GetSyncStatus(sync_pb2.GetSyncStatusRequest(), metadata=as_service),
    ):
        await expect_error(call(), grpc.StatusCode.PERMISSION_DENIED)
    start = sync.StartSync(sync_pb2.StartSyncRequest(), metadata=as_service)
    await expect_error(_drain(start), grpc.StatusCode.PERMISSION_DENIED)
    favorites = await stub.ListFavorites(wl.ListFavoritesRequest(), metadata=viewer)
    positions = await stub.ListPositions(wl.ListPositionsRequest(), metadata=viewer)
    assert [f.ts_code for f in favorites.favorites] == [BANKS[0]]
    assert [(p.id, p.quantity) for p in positions.positions] == [(position_id, 100)]


async def _drain(stream) -> None:
    async for _ in stream:
        pass
