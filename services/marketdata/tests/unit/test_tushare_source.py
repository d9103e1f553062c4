"""TushareMarketDataSource against the fake Tushare server, through the real SDK: data and shape.

The fake serves the real bank/index CSVs from shared/data, so the anchors are real Tushare-convention numbers.
"""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

from services.marketdata.tests.fakes.fake_tushare import FakeTushareServer
from services.marketdata.tests.fakes.tushare_settings import BANKS, TOKEN, fast_settings
from zquant_marketdata.adapters.tushare.source import (
    TushareMarketDataSource,
    ts,
)
from zquant_marketdata.application.source_port import BarQuery, MarketDataSource
from zquant_marketdata.domain.errors import (
    SourceUnavailableError,
)

pytestmark = pytest.mark.unit


def test_adapter_implements_every_port_method_with_the_same_signature() -> None:
    port_methods = [name for name in vars(MarketDataSource) if not name.startswith("_")]

    assert port_methods
    for name in port_methods:
        adapter_method = getattr(TushareMarketDataSource, name)
        assert inspect.iscoroutinefunction(adapter_method), name
        assert inspect.signature(adapter_method) == inspect.signature(getattr(MarketDataSource, name)), name


# --- data and shape -------------------------------------------------------------------------


async def test_daily_by_trade_date_returns_all_four_banks(source: TushareMarketDataSource) -> None:
    frame = await source.bars(BarQuery("daily", trade_date="20230717", expect_rows=True))

    assert set(frame["ts_code"]) == BANKS
    assert set(frame["trade_date"]) == {"20230717"}


async def test_daily_range_for_one_code_is_newest_first_with_the_ex_rights_row(
    source: TushareMarketDataSource,
) -> None:
    frame = await source.bars(BarQuery("daily", ts_code="601398.SH", start_date="20230710", end_date="20230720"))

    assert list(frame["trade_date"]) == sorted(frame["trade_date"], reverse=True)
    assert frame["trade_date"].iloc[0] == "20230720"
    assert frame["trade_date"].iloc[-1] == "20230710"
    ex_rights = frame.set_index("trade_date").loc["20230717"]
    assert ex_rights["pre_close"] == pytest.approx(4.57)
    assert frame.set_index("trade_date").loc["20230714", "close"] == pytest.approx(4.87)


async def test_daily_accepts_a_comma_separated_code_list(source: TushareMarketDataSource) -> None:
    frame = await source.bars(BarQuery("daily", ts_code="601398.SH,601988.SH", start_date="20230717", end_date="20230718"))

    assert sorted(zip(frame["trade_date"], frame["ts_code"])) == [
        ("20230717", "601398.SH"), ("20230717", "601988.SH"),
        ("20230718", "601398.SH"), ("20230718", "601988.SH"),
    ]  # fmt: skip


async def test_adj_factor_steps_on_the_ex_rights_day(source: TushareMarketDataSource) -> None:
    frame = await source.bars(BarQuery("adj_factor", ts_code="601398.SH", start_date="20230714", end_date="20230717"))

    factors = dict(zip(frame["trade_date"], frame["adj_factor"]))
    assert factors == {"20230717": pytest.approx(2.245984), "20230714": pytest.approx(2.106013)}


async def test_daily_basic_by_trade_date(source: TushareMarketDataSource) -> None:
    frame = await source.bars(BarQuery("daily_basic", trade_date="20230717", expect_rows=True))

    assert set(frame["ts_code"]) == BANKS
    assert {"turnover_rate", "total_mv"} <= set(frame.columns)


async def test_index_daily_serves_the_sse_composite(source: TushareMarketDataSource) -> None:
    frame = await source.bars(BarQuery("index_daily", ts_code="000001.SH", start_date="20230714", end_date="20230718", expect_rows=True))

    assert list(frame["trade_date"]) == ["20230718", "20230717", "20230714"]
    assert set(frame["ts_code"]) == {"000001.SH"}
    assert {"close", "vol", "amount"} <= set(frame.columns)


async def test_trade_cal_marks_weekends_closed_and_links_the_previous_open_day(
    source: TushareMarketDataSource,
) -> None:
    for exchange in ("SSE", "SZSE"):
        frame = await source.trade_cal(exchange, "20230714", "20230717")

        assert list(frame.columns) == ["exchange", "cal_date", "is_open", "pretrade_date"]
        assert frame.values.tolist() == [
            [exchange, "20230717", 1, "20230714"],
            [exchange, "20230716", 0, "20230714"],
            [exchange, "20230715", 0, "20230714"],
            [exchange, "20230714", 1, "20230713"],
        ]


async def test_stock_basic_asks_for_listing_fields(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    frame = await source.stock_basic("L")

    assert set(frame["ts_code"]) == BANKS
    assert list(frame.columns[:3]) == ["ts_code", "symbol", "name"]
    assert set(frame["exchange"]) == {"SSE"}
    assert frame["delist_date"].isna().all()  # asked for, absent from the data: null, as Tushare
    assert server.calls[-1].params == {"list_status": "L"}


def test_fields_select_and_order_columns(server: FakeTushareServer) -> None:
    api = ts.pro_api(TOKEN)
    api._DataApi__http_url = server.url

    frame = api.daily(ts_code="601398.SH", start_date="20230714", end_date="20230717", fields="close,trade_date")

    assert frame.values.tolist() == [[4.57, "20230717"], [4.87, "20230714"]]
    assert server.calls[-1].fields == "close,trade_date"


async def test_holiday_is_empty_with_columns_unless_rows_are_expected(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    frame = await source.bars(BarQuery("daily", trade_date="20230716"))
    assert frame.empty and "close" in frame.columns

    with pytest.raises(SourceUnavailableError, match="no rows"):
        await source.bars(BarQuery("daily", trade_date="20230716", expect_rows=True))


async def test_none_params_are_not_sent(source: TushareMarketDataSource, server: FakeTushareServer) -> None:
    await source.bars(BarQuery("adj_factor", trade_date="20230717"))

    assert server.calls[-1].params == {"trade_date": "20230717"}


async def test_in_memory_tables_serve_a_synthetic_market() -> None:
    daily = pd.DataFrame(
        {"ts_code": ["000001.SZ", "000001.SZ"], "trade_date": ["20240102", "20240103"], "close": [10.0, 10.5]}
    )
    stk_factor = daily.rename(columns={"close": "macd"})
    with FakeTushareServer({"daily": daily, "stk_factor": stk_factor}, token=TOKEN) as fake:
        source = TushareMarketDataSource(fast_settings(fake.url))

        factors = await source.bars(BarQuery("stk_factor", ts_code="000001.SZ", expect_rows=True))
        calendar = await source.trade_cal("SZSE", "20240101", "20240103")

    assert list(factors["trade_date"]) == ["20240103", "20240102"]
    assert list(calendar["is_open"]) == [1, 1, 0]
