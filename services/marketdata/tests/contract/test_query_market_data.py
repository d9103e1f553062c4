"""MarketDataService over a real gRPC server on PostgreSQL, with real bank data.

Adjusted prices are checked against Tushare's pro_bar formula computed here, independently,
with pandas straight from the CSVs: qfq = price × adj / adj(latest in range), hfq = price × adj.
"""

from __future__ import annotations

import datetime as dt

import grpc
import numpy as np
import pandas as pd
import pytest
from google.rpc import error_details_pb2
from sqlalchemy import insert

from zquant.identity.v1 import role_pb2, role_pb2_grpc
from zquant.marketdata.v1 import common_pb2, market_data_pb2
from zquant_kit.grpc.panel_codec import read_panel
from zquant_kit.testing import SHARED_DATA, detail
from zquant_marketdata.adapters.sqlalchemy import tables

pytestmark = pytest.mark.contract

DATA = SHARED_DATA
BANKS = ["601398.SH", "601939.SH", "601288.SH", "601988.SH"]
SUSPENDED = ("601988.SH", "20230103")  # a daily row we drop: the calendar keeps the day
FACTOR_GAP = ("601939.SH", "20230705")  # an adj_factor row we drop: the previous factor carries on
NO_FACTORS = "000002.SZ"  # bars, never a factor
PRICES = ["open", "high", "low", "close", "pre_close"]


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, dtype={"ts_code": str, "trade_date": str})


def _drop(frame: pd.DataFrame, key: tuple[str, str]) -> pd.DataFrame:
    return frame[~((frame.ts_code == key[0]) & (frame.trade_date == key[1]))]


async def _load(app) -> None:
    daily = _csv("a_share/daily.csv")
    await app.bar_store.write("daily", _drop(daily, SUSPENDED))
    await app.bar_store.write("adj_factor", _drop(_csv("a_share/adj_factor.csv"), FACTOR_GAP))
    await app.bar_store.write("daily_basic", _csv("a_share/daily_basic.csv"))
    index = _csv("index/000001.SH.csv")
    await app.bar_store.write("index_daily", index[index.trade_date >= "20230101"])
    orphan = daily[(daily.ts_code == "601398.SH") & (daily.trade_date >= "20230801")].assign(ts_code=NO_FACTORS)
    await app.bar_store.write("daily", orphan)

    basics = _csv("a_share/stock_basic.csv").astype({"symbol": str, "list_date": str})
    now = dt.datetime.now(dt.UTC)
    stock_rows = [
        {**row, "area": None, "delist_date": None, "updated_at": now,
         "list_date": dt.datetime.strptime(row["list_date"], "%Y%m%d").date()}
        for row in basics.to_dict("records")
    ]
    stock_rows.append(
        {"ts_code": NO_FACTORS, "symbol": "000002", "name": "万科A", "area": "深圳", "industry": "全国地产",
         "market": "主板", "exchange": "SZSE", "list_status": "D", "list_date": dt.date(1991, 1, 29),
         "delist_date": None, "updated_at": now}
    )
    open_days = sorted({dt.datetime.strptime(d, "%Y%m%d").date() for d in daily.trade_date})
    calendar, previous = [], None
    day = open_days[0]
    opened = set(open_days)
    while day <= open_days[-1]:
        calendar.append({"exchange": "SSE", "cal_date": day, "is_open": day in opened, "pretrade_date": previous})
        if day in opened:
            previous = day
        day += dt.timedelta(days=1)
    async with app.engine.begin() as connection:
        await connection.execute(insert(tables.stock_basic), stock_rows)
        await connection.execute(insert(tables.trade_cal), calendar)


@pytest.fixture
async def market(marketdata):
    await _load(marketdata.app)
    _, marketdata.viewer = await marketdata.user("vera", role="viewer")
    return marketdata


async def _fails(call, code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        result = call()
        if hasattr(result, "__aiter__"):
            async for _ in result:
                pass
        else:
            await result
    assert caught.value.code() == code, caught.value.details()
    return caught.value


async def _field_violation(call) -> str:
    error = await _fails(call, grpc.StatusCode.INVALID_ARGUMENT)
    return detail(error, error_details_pb2.BadRequest).field_violations[0].field


async def _not_found(call) -> str:
    error = await _fails(call, grpc.StatusCode.NOT_FOUND)
    return detail(error, error_details_pb2.ResourceInfo).resource_name


def _pro_bar(code: str, start: str, end: str, adj: str | None) -> pd.DataFrame:
    """Tushare pro_bar's adjustment, from the CSVs: merge factors, fill a missing one from the
    previous day, scale OHLC + pre_close, recompute change and pct_chg (unrounded here)."""
    daily = _csv("a_share/daily.csv")
    factors = _csv("a_share/adj_factor.csv")
    daily = daily[(daily.ts_code == code) & daily.trade_date.between(start, end)]
    factors = factors[(factors.ts_code == code) & factors.trade_date.between(start, end)]
    data = daily.merge(factors[["trade_date", "adj_factor"]], on="trade_date", how="left")
    data = data.sort_values("trade_date", ascending=False).reset_index(drop=True)
    data["adj_factor"] = data["adj_factor"].bfill()
    latest = float(factors.sort_values("trade_date", ascending=False)["adj_factor"].iloc[0])
    for col in PRICES:
        if adj == "hfq":
            data[col] = data[col] * data["adj_factor"]
        if adj == "qfq":
            data[col] = data[col] * data["adj_factor"] / latest
    if adj:
        data["change"] = data["close"] - data["pre_close"]
        data["pct_chg"] = data["change"] / data["pre_close"] * 100
    return data.sort_values("trade_date").reset_index(drop=True)


def _frame(bars) -> pd.DataFrame:
    names = ["open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "adj_factor"]
    return pd.DataFrame(
        [{"ts_code": b.ts_code, "trade_date": b.trade_date, **{n: getattr(b, n) for n in names}} for b in bars]
    )


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
        await _fails(lambda: call(None), grpc.StatusCode.UNAUTHENTICATED)
        denied = await _fails(lambda: call(blind), grpc.StatusCode.PERMISSION_DENIED)
        assert "data:read" in denied.details(), name
        result = call(market.viewer)
        if hasattr(result, "__aiter__"):
            assert [r async for r in result], name
        else:
            await result


async def test_list_stocks_filters_and_pagination_walk(market):
    m, md = market.market, market.viewer
    seen, token = [], ""
    while True:
        page = await m.ListStocks(market_data_pb2.ListStocksRequest(page_size=2, page_token=token), metadata=md)
        assert len(page.stocks) <= 2
        seen += [s.ts_code for s in page.stocks]
        token = page.next_page_token
        if not token:
            break
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

    assert await _field_violation(
        lambda: m.ListStocks(market_data_pb2.ListStocksRequest(page_token="garbage!"), metadata=md)
    ) == "page_token"
    assert await _field_violation(
        lambda: m.ListStocks(market_data_pb2.ListStocksRequest(list_status="X"), metadata=md)
    ) == "list_status"
    assert await _field_violation(
        lambda: m.ListStocks(market_data_pb2.ListStocksRequest(page_size=-1), metadata=md)
    ) == "page_size"


async def test_get_stock_and_calendar(market):
    m, md = market.market, market.viewer
    stock = (await m.GetStock(market_data_pb2.GetStockRequest(ts_code="601288.sh"), metadata=md)).stock
    assert (stock.ts_code, stock.name, stock.list_status, stock.delist_date) == ("601288.SH", "农业银行", "L", "")
    assert await _not_found(lambda: m.GetStock(market_data_pb2.GetStockRequest(ts_code="999999.SH"), metadata=md)) \
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
        assert await _field_violation(lambda: m.GetTradeCalendar(request, metadata=md)) == field


@pytest.mark.parametrize("adjust", ["none", "qfq", "hfq"])
async def test_get_bars_matches_pro_bar(market, adjust):
    enum = {"none": common_pb2.ADJUST_NONE, "qfq": common_pb2.ADJUST_QFQ, "hfq": common_pb2.ADJUST_HFQ}[adjust]
    for code in BANKS:
        reply = await market.market.GetBars(
            market_data_pb2.GetBarsRequest(ts_codes=[code], start_date="20230601", end_date="20230731", adjust=enum),
            metadata=market.viewer,
        )
        got = _frame(reply.bars)
        expected = _pro_bar(code, "20230601", "20230731", None if adjust == "none" else adjust)
        assert list(got.trade_date) == list(expected.trade_date)
        for col in [*PRICES, "change", "pct_chg", "vol", "adj_factor"]:
            np.testing.assert_allclose(got[col], expected[col], rtol=1e-12, atol=1e-12, err_msg=f"{code} {col}")


async def test_qfq_is_continuous_across_the_ex_rights_day(market):
    reply = await market.market.GetBars(
        market_data_pb2.GetBarsRequest(
            ts_codes=["601398.SH"], start_date="20230710", end_date="20230721", adjust=common_pb2.ADJUST_QFQ
        ),
        metadata=market.viewer,
    )
    bars = {b.trade_date: b for b in reply.bars}
    before, ex_day = bars["20230714"], bars["20230717"]
    assert before.adj_factor == 2.106013 and ex_day.adj_factor == 2.245984
    assert ex_day.close == pytest.approx(4.57)  # the base is the range's last factor, so recent prices are raw
    assert before.close / ex_day.pre_close == pytest.approx(1, abs=1e-3)  # no gap, up to factor rounding
    raw = await market.market.GetBars(
        market_data_pb2.GetBarsRequest(ts_codes=["601398.SH"], start_date="20230714", end_date="20230717"),
        metadata=market.viewer,
    )
    assert raw.bars[0].close / raw.bars[1].pre_close == pytest.approx(4.87 / 4.57)  # the raw gap

    based = await market.market.GetBars(
        market_data_pb2.GetBarsRequest(
            ts_codes=["601398.SH"], start_date="20230710", end_date="20230721", adjust=common_pb2.ADJUST_QFQ,
            adjust_base_date="20230716",  # a Sunday: the base is the factor of Friday 20230714
        ),
        metadata=market.viewer,
    )
    by_day = {b.trade_date: b for b in based.bars}
    assert by_day["20230714"].close == pytest.approx(4.87, abs=1e-12)
    assert by_day["20230717"].close == pytest.approx(4.57 * 2.245984 / 2.106013, abs=1e-12)


async def test_get_bars_rounding_like_pro_bar(market):
    reply = await market.market.GetBars(
        market_data_pb2.GetBarsRequest(
            ts_codes=BANKS, start_date="20190101", end_date="20230829", adjust=common_pb2.ADJUST_HFQ,
            round_prices=True,
        ),
        metadata=market.viewer,
    )
    got = _frame(reply.bars)
    assert list(got.ts_code.unique()) == sorted(BANKS)
    for code in BANKS:
        mine = got[got.ts_code == code].reset_index(drop=True)
        expected = _pro_bar(code, "20190101", "20230829", "hfq")
        suspended = mine.trade_date.isin([SUSPENDED[1]]) if code == SUSPENDED[0] else None
        if suspended is not None:
            expected = expected[expected.trade_date != SUSPENDED[1]].reset_index(drop=True)
        for col in PRICES:
            expected[col] = expected[col].map(lambda x: float(f"{x:.2f}"))
        change = expected["close"] - expected["pre_close"]
        pct = (change / expected["pre_close"] * 100).map(lambda x: float(f"{x:.2f}"))
        for col in PRICES:
            assert list(mine[col]) == list(expected[col]), (code, col)
        np.testing.assert_allclose(mine["change"], change, atol=1e-9)
        assert list(mine["pct_chg"]) == list(pct)


async def test_get_bars_errors(market):
    m, md = market.market, market.viewer

    def bars(**fields):
        fields.setdefault("ts_codes", ["601398.SH"])
        fields.setdefault("start_date", "20230101")
        fields.setdefault("end_date", "20230201")
        return lambda: m.GetBars(market_data_pb2.GetBarsRequest(**fields), metadata=md)

    assert await _field_violation(bars(ts_codes=[])) == "ts_codes"
    assert await _field_violation(bars(start_date="2023-01-01")) == "start_date"
    assert await _field_violation(bars(end_date="20230231")) == "end_date"
    assert await _field_violation(bars(start_date="20230301")) == "start_date"
    assert await _field_violation(bars(adjust_base_date="yesterday", adjust=common_pb2.ADJUST_QFQ)) \
        == "adjust_base_date"
    assert await _field_violation(bars(adjust=42)) == "adjust"
    assert await _not_found(bars(ts_codes=["601398.SH", "688999.SH"])) == "688999.SH"

    # Bars without any factor: fine raw, refused adjusted, naming the code.
    raw = await bars(ts_codes=[NO_FACTORS], start_date="20230801", end_date="20230829")()
    assert len(raw.bars) > 0 and all(np.isnan(b.adj_factor) for b in raw.bars)
    refused = await _fails(
        bars(ts_codes=[NO_FACTORS, "601398.SH"], start_date="20230801", end_date="20230829",
             adjust=common_pb2.ADJUST_QFQ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert NO_FACTORS in refused.details()

    market.app.market_queries.max_bars = 100  # the cap, made reachable with the bank data
    assert await _field_violation(bars(ts_codes=BANKS, start_date="20230101", end_date="20230829")) == "ts_codes"


async def test_qfq_base_after_the_range_and_missing_factor_fill(market):
    m, md = market.market, market.viewer
    # Base date after the range: the factor of the base date, read beyond the range.
    reply = await m.GetBars(
        market_data_pb2.GetBarsRequest(ts_codes=["601398.SH"], start_date="20230703", end_date="20230714",
                                       adjust=common_pb2.ADJUST_QFQ, adjust_base_date="20230829"),
        metadata=md,
    )
    assert reply.bars[-1].close == pytest.approx(4.87 * 2.106013 / 2.245984, abs=1e-12)
    # 601939.SH has no factor row on FACTOR_GAP: the previous day's factor is used.
    reply = await m.GetBars(
        market_data_pb2.GetBarsRequest(ts_codes=[FACTOR_GAP[0]], start_date="20230705", end_date="20230705",
                                       adjust=common_pb2.ADJUST_HFQ),
        metadata=md,
    )
    expected = _pro_bar(FACTOR_GAP[0], "20230704", "20230705", "hfq")
    assert reply.bars[0].adj_factor == expected.adj_factor.iloc[-1]
    assert reply.bars[0].close == pytest.approx(expected.close.iloc[-1], rel=1e-12)


async def test_index_bars_and_daily_basic(market):
    m, md = market.market, market.viewer
    index = await m.GetIndexBars(
        market_data_pb2.GetIndexBarsRequest(ts_code="000001.SH", start_date="20230103", end_date="20230106"),
        metadata=md,
    )
    source = _csv("index/000001.SH.csv").set_index("trade_date")
    assert [b.trade_date for b in index.bars] == ["20230103", "20230104", "20230105", "20230106"]
    for bar in index.bars:
        assert (bar.close, bar.vol, bar.amount) == tuple(source.loc[bar.trade_date, ["close", "vol", "amount"]])
        assert np.isnan(bar.pre_close)  # not in the source: NULL → NaN
    assert await _not_found(lambda: m.GetIndexBars(
        market_data_pb2.GetIndexBarsRequest(ts_code="601398.SH", start_date="20230103", end_date="20230106"),
        metadata=md)) == "601398.SH"
    assert await _field_violation(lambda: m.GetIndexBars(
        market_data_pb2.GetIndexBarsRequest(ts_code="000001.SH", start_date="2023", end_date="20230106"),
        metadata=md)) == "start_date"

    basic = await m.GetDailyBasic(
        market_data_pb2.GetDailyBasicRequest(ts_codes=["601398.SH", "601288.SH"], start_date="20230103",
                                             end_date="20230104"),
        metadata=md,
    )
    assert [(r.ts_code, r.trade_date) for r in basic.rows] == [
        ("601288.SH", "20230103"), ("601288.SH", "20230104"), ("601398.SH", "20230103"), ("601398.SH", "20230104")
    ]
    source = _csv("a_share/daily_basic.csv").set_index(["ts_code", "trade_date"])
    assert basic.rows[0].total_mv == source.loc[("601288.SH", "20230103"), "total_mv"]
    assert np.isnan(basic.rows[0].pe)
    assert await _not_found(lambda: m.GetDailyBasic(
        market_data_pb2.GetDailyBasicRequest(ts_codes=["000000.XX"], start_date="20230103", end_date="20230104"),
        metadata=md)) == "000000.XX"
    assert await _field_violation(lambda: m.GetDailyBasic(
        market_data_pb2.GetDailyBasicRequest(start_date="20230103", end_date="20230104"), metadata=md)) == "ts_codes"


async def test_panel_round_trip(market):
    m, md = market.market, market.viewer
    fields = ["open", "high", "low", "close", "vol", "adj_factor", "change", "pct_chg"]
    request = market_data_pb2.GetPanelRequest(
        start_date="20221226", end_date="20230110", fields=fields, adjust=common_pb2.ADJUST_QFQ, codes_per_chunk=3
    )
    responses = [r async for r in m.GetPanel(request, metadata=md)]
    assert responses[0].WhichOneof("part") == "header"
    assert all(r.chunk.code_count <= 3 for r in responses[1:])
    assert len(responses) == 1 + 2 * len(fields)  # 4 banks (NO_FACTORS has no bar here) in chunks of 3
    codes, dates, values = await read_panel(_aiter(responses))
    assert codes == sorted(BANKS)
    expected_days = sorted(d for d in set(_csv("a_share/daily.csv").trade_date) if "20221226" <= d <= "20230110")
    assert [str(d).replace("-", "") for d in dates] == expected_days
    assert all(v.shape == (4, len(expected_days)) for v in values.values())
    row, column = codes.index(SUSPENDED[0]), expected_days.index(SUSPENDED[1])
    assert all(np.isnan(values[f][row, column]) for f in fields)  # the suspension is a NaN
    assert not np.isnan(values["close"][row, column + 1])

    for code in BANKS:
        bars = await m.GetBars(
            market_data_pb2.GetBarsRequest(ts_codes=[code], start_date="20221226", end_date="20230110",
                                           adjust=common_pb2.ADJUST_QFQ),
            metadata=md,
        )
        frame = _frame(bars.bars).set_index("trade_date")
        row = codes.index(code)
        for field in fields:
            series = pd.Series(values[field][row], index=expected_days).dropna()
            assert list(series.index) == list(frame.index)
            np.testing.assert_allclose(series.to_numpy(), frame[field].to_numpy(), rtol=1e-12, err_msg=field)

    picked = await read_panel(m.GetPanel(market_data_pb2.GetPanelRequest(
        ts_codes=["601988.SH", "601398.SH"], start_date="20230103", end_date="20230103", fields=["close"]),
        metadata=md))
    assert picked[0] == ["601988.SH", "601398.SH"]  # the request's order
    assert np.isnan(picked[2]["close"][0, 0]) and picked[2]["close"][1, 0] == 4.31

    # Every code over the whole history: read as parallel date slices on the server.
    codes, dates, values = await read_panel(m.GetPanel(market_data_pb2.GetPanelRequest(
        start_date="20190101", end_date="20231231", fields=["close", "vol"]), metadata=md))
    daily = _csv("a_share/daily.csv")
    assert codes == sorted([*BANKS, NO_FACTORS]) and dates.size == daily.trade_date.nunique()
    for code in BANKS:
        source = _drop(daily, SUSPENDED)
        source = source[source.ts_code == code].set_index("trade_date")
        series = pd.Series(values["close"][codes.index(code)], index=[str(d).replace("-", "") for d in dates])
        pd.testing.assert_series_equal(series.dropna(), source.close, check_names=False, check_index_type=False)
    assert np.isnan(values["vol"][codes.index(NO_FACTORS)]).sum() == dates.size - 21

    def panel(**fields):
        fields.setdefault("start_date", "20230103")
        fields.setdefault("end_date", "20230110")
        return lambda: m.GetPanel(market_data_pb2.GetPanelRequest(**fields), metadata=md)

    assert await _field_violation(panel(fields=["close", "vwap"])) == "fields[1]"
    assert await _field_violation(panel(start_date="x")) == "start_date"
    assert await _field_violation(panel(codes_per_chunk=-1)) == "codes_per_chunk"
    assert await _not_found(panel(ts_codes=["601398.SH", "600000.XX"])) == "600000.XX"
    failed = await _fails(panel(ts_codes=[NO_FACTORS], start_date="20230801", end_date="20230829",
                                adjust=common_pb2.ADJUST_HFQ), grpc.StatusCode.FAILED_PRECONDITION)
    assert NO_FACTORS in failed.details()


async def _aiter(items):
    for item in items:
        yield item
