"""MarketDataService over a real gRPC server on PostgreSQL, with real bank data: the panel stream."""

from __future__ import annotations

import grpc
import numpy as np
import pandas as pd
import pytest

from services.marketdata.tests.contract.bank_market import (
    BANKS,
    NO_FACTORS,
    SUSPENDED,
    bars_frame,
    csv,
    drop,
    fails,
    field_violation,
    not_found,
)
from zquant.marketdata.v1 import common_pb2, market_data_pb2
from zquant_kit.grpc.panel_codec import read_panel

pytestmark = pytest.mark.contract


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
    expected_days = sorted(d for d in set(csv("a_share/daily.csv").trade_date) if "20221226" <= d <= "20230110")
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
        frame = bars_frame(bars.bars).set_index("trade_date")
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
    daily = csv("a_share/daily.csv")
    assert codes == sorted([*BANKS, NO_FACTORS]) and dates.size == daily.trade_date.nunique()
    for code in BANKS:
        source = drop(daily, SUSPENDED)
        source = source[source.ts_code == code].set_index("trade_date")
        series = pd.Series(values["close"][codes.index(code)], index=[str(d).replace("-", "") for d in dates])
        pd.testing.assert_series_equal(series.dropna(), source.close, check_names=False, check_index_type=False)
    assert np.isnan(values["vol"][codes.index(NO_FACTORS)]).sum() == dates.size - 21

    def panel(**fields):
        fields.setdefault("start_date", "20230103")
        fields.setdefault("end_date", "20230110")
        return lambda: m.GetPanel(market_data_pb2.GetPanelRequest(**fields), metadata=md)

    assert await field_violation(panel(fields=["close", "vwap"])) == "fields[1]"
    assert await field_violation(panel(start_date="x")) == "start_date"
    assert await field_violation(panel(codes_per_chunk=-1)) == "codes_per_chunk"
    assert await not_found(panel(ts_codes=["601398.SH", "600000.XX"])) == "600000.XX"
    failed = await fails(panel(ts_codes=[NO_FACTORS], start_date="20230801", end_date="20230829",
                                adjust=common_pb2.ADJUST_HFQ), grpc.StatusCode.FAILED_PRECONDITION)
    assert NO_FACTORS in failed.details()


async def _aiter(items):
    for item in items:
        yield item
