"""MarketDataService over a real gRPC server on PostgreSQL, with real bank data: bars, adjusted like Tushare's pro_bar, and their errors."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from services.marketdata.tests.contract.bank_market import (
    BANKS,
    FACTOR_GAP,
    NO_FACTORS,
    PRICES,
    SUSPENDED,
    bars_frame,
    csv,
    fails,
    field_violation,
    not_found,
    pro_bar,
)
from zquant.marketdata.v1 import common_pb2, market_data_pb2

pytestmark = pytest.mark.contract


@pytest.mark.parametrize("adjust", ["none", "qfq", "hfq"])
async def test_get_bars_matches_pro_bar(market, adjust):
    enum = {"none": common_pb2.ADJUST_NONE, "qfq": common_pb2.ADJUST_QFQ, "hfq": common_pb2.ADJUST_HFQ}[adjust]
    for code in BANKS:
        reply = await market.market.GetBars(
            market_data_pb2.GetBarsRequest(ts_codes=[code], start_date="20230601", end_date="20230731", adjust=enum),
            metadata=market.viewer,
        )
        got = bars_frame(reply.bars)
        expected = pro_bar(code, "20230601", "20230731", None if adjust == "none" else adjust)
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
    got = bars_frame(reply.bars)
    assert list(got.ts_code.unique()) == sorted(BANKS)
    for code in BANKS:
        mine = got[got.ts_code == code].reset_index(drop=True)
        expected = pro_bar(code, "20190101", "20230829", "hfq")
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

    assert await field_violation(bars(ts_codes=[])) == "ts_codes"
    assert await field_violation(bars(start_date="2023-01-01")) == "start_date"
    assert await field_violation(bars(end_date="20230231")) == "end_date"
    assert await field_violation(bars(start_date="20230301")) == "start_date"
    assert await field_violation(bars(adjust_base_date="yesterday", adjust=common_pb2.ADJUST_QFQ)) \
        == "adjust_base_date"
    assert await field_violation(bars(adjust=42)) == "adjust"
    assert await not_found(bars(ts_codes=["601398.SH", "688999.SH"])) == "688999.SH"

    # Bars without any factor: fine raw, refused adjusted, naming the code.
    raw = await bars(ts_codes=[NO_FACTORS], start_date="20230801", end_date="20230829")()
    assert len(raw.bars) > 0 and all(np.isnan(b.adj_factor) for b in raw.bars)
    refused = await fails(
        bars(ts_codes=[NO_FACTORS, "601398.SH"], start_date="20230801", end_date="20230829",
             adjust=common_pb2.ADJUST_QFQ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert NO_FACTORS in refused.details()

    market.app.market_queries.max_bars = 100  # the cap, made reachable with the bank data
    assert await field_violation(bars(ts_codes=BANKS, start_date="20230101", end_date="20230829")) == "ts_codes"


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
    expected = pro_bar(FACTOR_GAP[0], "20230704", "20230705", "hfq")
    assert reply.bars[0].adj_factor == expected.adj_factor.iloc[-1]
    assert reply.bars[0].close == pytest.approx(expected.close.iloc[-1], rel=1e-12)


async def test_index_bars_and_daily_basic(market):
    m, md = market.market, market.viewer
    index = await m.GetIndexBars(
        market_data_pb2.GetIndexBarsRequest(ts_code="000001.SH", start_date="20230103", end_date="20230106"),
        metadata=md,
    )
    source = csv("index/000001.SH.csv").set_index("trade_date")
    assert [b.trade_date for b in index.bars] == ["20230103", "20230104", "20230105", "20230106"]
    for bar in index.bars:
        assert (bar.close, bar.vol, bar.amount) == tuple(source.loc[bar.trade_date, ["close", "vol", "amount"]])
        assert np.isnan(bar.pre_close)  # not in the source: NULL → NaN
    assert await not_found(lambda: m.GetIndexBars(
        market_data_pb2.GetIndexBarsRequest(ts_code="601398.SH", start_date="20230103", end_date="20230106"),
        metadata=md)) == "601398.SH"
    assert await field_violation(lambda: m.GetIndexBars(
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
    source = csv("a_share/daily_basic.csv").set_index(["ts_code", "trade_date"])
    assert basic.rows[0].total_mv == source.loc[("601288.SH", "20230103"), "total_mv"]
    assert np.isnan(basic.rows[0].pe)
    assert await not_found(lambda: m.GetDailyBasic(
        market_data_pb2.GetDailyBasicRequest(ts_codes=["000000.XX"], start_date="20230103", end_date="20230104"),
        metadata=md)) == "000000.XX"
    assert await field_violation(lambda: m.GetDailyBasic(
        market_data_pb2.GetDailyBasicRequest(start_date="20230103", end_date="20230104"), metadata=md)) == "ts_codes"
