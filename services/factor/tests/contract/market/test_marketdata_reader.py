"""GrpcMarketDataReader against a real marketdata server loaded with the banks: the panel arrives dates × codes
in the order asked, hfq as Tushare computes it, with the caller's token or the service credential (which
marketdata grants its reads, for the jobs the factor service starts itself)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from services.marketdata.tests.contract.bank_market import BANKS, csv
from zquant_factor.adapters.marketdata_client import GrpcMarketDataReader
from zquant_factor.application.market_ports import Adjust, Credentials, warmup_start
from zquant_kit.errors import FailedPrecondition, Unauthenticated
from zquant_kit.service_credential import load_service_secret

pytestmark = pytest.mark.contract

START, END = dt.date(2023, 1, 3), dt.date(2023, 8, 29)


def _token(metadata: list[tuple[str, str]]) -> Credentials:
    return Credentials(dict(metadata)["authorization"].removeprefix("Bearer "))


async def test_the_reader_serves_panels_calendar_and_industries(market, marketdata_settings) -> None:
    reader = GrpcMarketDataReader(
        market.client.channel("marketdata"), load_service_secret(marketdata_settings)
    )
    viewer = _token(market.viewer)
    codes = [BANKS[2], BANKS[1], BANKS[0]]
    panel = await reader.panel(codes, START, END, ("close", "adj_factor"), Adjust.HFQ, viewer)
    days = await reader.trade_days(START, END, viewer)
    assert np.array_equal(panel.dates, days) and panel.fields["close"].shape == (days.size, 3)
    daily, factors = csv("a_share/daily.csv"), csv("a_share/adj_factor.csv")
    row = daily[(daily.ts_code == BANKS[0]) & (daily.trade_date == "20230829")].close.item()
    factor = factors[(factors.ts_code == BANKS[0]) & (factors.trade_date == "20230829")].adj_factor.item()
    assert panel.fields["close"][-1, 2] == pytest.approx(row * factor, rel=1e-12)
    assert await warmup_start(reader, START, 5, viewer) == dt.date(2022, 12, 26)  # 30, 29, 28, 27, 26 Dec
    industries = await reader.industries(viewer)
    assert set(BANKS) <= set(industries) and industries[BANKS[0]] == "银行"


async def test_the_service_credential_reads_what_a_user_reads(market, marketdata_settings) -> None:
    reader = GrpcMarketDataReader(
        market.client.channel("marketdata"), load_service_secret(marketdata_settings)
    )
    service, viewer = Credentials(""), _token(market.viewer)
    assert np.array_equal(
        await reader.trade_days(START, END, service), await reader.trade_days(START, END, viewer)
    )
    as_service = await reader.panel(BANKS, START, END, ("close",), Adjust.HFQ, service)
    as_viewer = await reader.panel(BANKS, START, END, ("close",), Adjust.HFQ, viewer)
    np.testing.assert_array_equal(as_service.fields["close"], as_viewer.fields["close"])
    assert await reader.industries(service) == await reader.industries(viewer)
    with pytest.raises(Unauthenticated):
        await reader.trade_days(START, END, Credentials("not.a.jwt"))
    with pytest.raises(FailedPrecondition, match=r"000001\.SZ"):
        await reader.panel(["000001.SZ"], START, END, ("close",), Adjust.HFQ, _token(market.viewer))
