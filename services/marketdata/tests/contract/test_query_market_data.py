"""MarketDataService over a real gRPC server on PostgreSQL, with real bank data: stocks, calendar and permissions."""

from __future__ import annotations

import grpc
import pytest

from services.marketdata.tests.contract.bank_market import (
    BANKS,
    NO_FACTORS,
    fails,
    field_violation,
    not_found,
)
from zquant.identity.v1 import role_pb2, role_pb2_grpc
from zquant.marketdata.v1 import market_data_pb2
from zquant_kit.testing import walk_pages

pytestmark = pytest.mark.contract


async def test_every_rpc_requires_data_read(market):
    admin = await market.admin()
    roles = role_pb2_grpc.RoleServiceStub(market.identity_channel)
    await roles.CreateRole(
        role_pb2.CreateRoleRequest(name="blind", description="no market data", permissions=["factor:read"]),
        metadata=admin,
    )
    _, blind = await market.user("blind_user", role="blind")
    m = market.market
    calls = {
        "ListStocks": lambda md: m.ListStocks(market_data_pb2.ListStocksRequest(), metadata=md),
        "GetStock": lambda md: m.GetStock(market_data_pb2.GetStockRequest(ts_code="601398.SH"), metadata=md),
        "GetTradeCalendar": lambda md: m.GetTradeCalendar(market_data_pb2.GetTradeCalendarRequest(), metadata=md),
        "GetBars": lambda md: m.GetBars(
            market_data_pb2.GetBarsRequest(ts_codes=["601398.SH"], start_date="20230101", end_date="20230201"),
            metadata=md,
        ),
        "GetIndexBars": lambda md: m.GetIndexBars(
            market_data_pb2.GetIndexBarsRequest(ts_code="000001.SH", start_date="20230101", end_date="20230201"),
            metadata=md,
        ),
        "GetDailyBasic": lambda md: m.GetDailyBasic(
            market_data_pb2.GetDailyBasicRequest(ts_codes=["601398.SH"], start_date="20230101", end_date="20230201"),
            metadata=md,
        ),
        "GetPanel": lambda md: m.GetPanel(
            market_data_pb2.GetPanelRequest(start_date="20230101", end_date="20230201"), metadata=md
        ),
    }
    for name, call in calls.items():
        await fails(lambda: call(None), grpc.StatusCode.UNAUTHENTICATED)
        denied = await fails(lambda: call(blind), grpc.StatusCode.PERMISSION_DENIED)
        assert "data:read" in denied.details(), name
        result = call(market.viewer)
        if hasattr(result, "__aiter__"):
            assert [r async for r in result], name
        else:
            await result


async def test_list_stocks_filters_and_pagination_walk(market):
    m, md = market.market, market.viewer
    stocks, _ = await walk_pages(
        lambda token: m.ListStocks(market_data_pb2.ListStocksRequest(page_size=2, page_token=token), metadata=md),
        lambda page: page.stocks,
        2,
    )
    seen = [s.ts_code for s in stocks]
    assert seen == sorted([*BANKS, NO_FACTORS])

    async def codes(**filters):
        reply = await m.ListStocks(market_data_pb2.ListStocksRequest(**filters), metadata=md)
        return [s.ts_code for s in reply.stocks]

    assert await codes(exchange="SZSE") == [NO_FACTORS]
    assert await codes(list_status="D") == [NO_FACTORS]  # delisted stocks are kept
    assert await codes(list_status="L") == sorted(BANKS)
    assert await codes(market="主板", industry="银行") == sorted(BANKS)
    assert await codes(query="工商") == ["601398.SH"]
    assert await codes(query="601939") == ["601939.SH"]
    assert await codes(query=".sz") == [NO_FACTORS]  # case-insensitive
    assert await codes(query="%") == []  # wildcards are literal
    stock = (await m.ListStocks(market_data_pb2.ListStocksRequest(query="601398"), metadata=md)).stocks[0]
    assert (stock.name, stock.symbol, stock.exchange, stock.list_date) == ("工商银行", "601398", "SSE", "20061027")

    assert await field_violation(
        lambda: m.ListStocks(market_data_pb2.ListStocksRequest(page_token="garbage!"), metadata=md)
    ) == "page_token"
    assert await field_violation(
        lambda: m.ListStocks(market_data_pb2.ListStocksRequest(list_status="X"), metadata=md)
    ) == "list_status"
    assert await field_violation(
        lambda: m.ListStocks(market_data_pb2.ListStocksRequest(page_size=-1), metadata=md)
    ) == "page_size"


async def test_get_stock_and_calendar(market):
    m, md = market.market, market.viewer
    stock = (await m.GetStock(market_data_pb2.GetStockRequest(ts_code="601288.sh"), metadata=md)).stock
    assert (stock.ts_code, stock.name, stock.list_status, stock.delist_date) == ("601288.SH", "农业银行", "L", "")
    assert await not_found(lambda: m.GetStock(market_data_pb2.GetStockRequest(ts_code="999999.SH"), metadata=md)) \
        == "999999.SH"

    week = await m.GetTradeCalendar(
        market_data_pb2.GetTradeCalendarRequest(start_date="20230714", end_date="20230718"), metadata=md
    )
    assert [(d.cal_date, d.is_open, d.pretrade_date) for d in week.days] == [
        ("20230714", True, "20230713"), ("20230715", False, "20230714"), ("20230716", False, "20230714"),
        ("20230717", True, "20230714"), ("20230718", True, "20230717"),
    ]
    opened = await m.GetTradeCalendar(
        market_data_pb2.GetTradeCalendarRequest(exchange="SSE", start_date="20230714", end_date="20230718",
                                                open_only=True), metadata=md
    )
    assert [d.cal_date for d in opened.days] == ["20230714", "20230717", "20230718"]
    for request, field in [
        (market_data_pb2.GetTradeCalendarRequest(exchange="NYSE"), "exchange"),
        (market_data_pb2.GetTradeCalendarRequest(start_date="2023-07-14"), "start_date"),
        (market_data_pb2.GetTradeCalendarRequest(start_date="20230720", end_date="20230710"), "start_date"),
    ]:
        assert await field_violation(lambda: m.GetTradeCalendar(request, metadata=md)) == field
