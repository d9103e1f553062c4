"""The sample market: deterministic, and it obeys the rules it claims (ex-rights identity,
limit clipping, suspensions, delisted/paused stocks, an index built from the stocks)."""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np
import pytest

from zquant_marketdata.adapters.sample_source import SampleMarketSource
from zquant_marketdata.application.source_port import BarQuery
from zquant_marketdata.domain import quality
from zquant_marketdata.domain.errors import SourceUnavailableError
from zquant_marketdata.domain.sample_market import SampleSpec, generate, sse_like_open_days

pytestmark = pytest.mark.unit

SPEC = SampleSpec(stocks=40, days=250)


@pytest.fixture(scope="module")
def market():
    return generate(SPEC)


def _by_stock(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    order = np.lexsort((columns["trade_date"], columns["ts_code"]))
    return {name: values[order] for name, values in columns.items()}


def test_same_seed_same_market_and_another_seed_another(market) -> None:
    again = generate(SPEC)
    for name in market.daily:
        np.testing.assert_array_equal(market.daily[name], again.daily[name])
    np.testing.assert_array_equal(market.adj_factor["adj_factor"], again.adj_factor["adj_factor"])
    assert market.stocks == again.stocks
    other = generate(SampleSpec(stocks=40, days=250, seed=7))
    assert not np.array_equal(market.daily["close"][:100], other.daily["close"][:100])


def test_defaults_span_five_sse_like_years_ending_2024() -> None:
    days = SampleSpec().open_days()
    assert days[0] == dt.date(2020, 1, 2) and days[-1] == dt.date(2024, 12, 31)
    assert all(day.weekday() < 5 for day in days)
    assert dt.date(2024, 10, 1) not in days and dt.date(2024, 2, 12) not in days  # National Day, Spring Festival
    assert 235 <= len(sse_like_open_days(dt.date(2023, 1, 1), dt.date(2023, 12, 31))) <= 250


def test_ex_rights_days_keep_the_adjustment_identity_and_factors_move_only_there(market) -> None:
    bars = _by_stock({**market.daily, "adj_factor": market.adj_factor["adj_factor"]})
    assert np.array_equal(market.adj_factor["ts_code"], market.daily["ts_code"])
    same = bars["ts_code"][1:] == bars["ts_code"][:-1]
    adj_ratio = bars["adj_factor"][1:] / bars["adj_factor"][:-1]
    price_ratio = bars["close"][:-1] / bars["pre_close"][1:]
    np.testing.assert_allclose(price_ratio[same], adj_ratio[same], rtol=1e-5)
    moved = same & ~np.isclose(adj_ratio, 1.0, rtol=1e-9)
    moved_keys = {(c, d.item()) for c, d in zip(bars["ts_code"][1:][moved], bars["trade_date"][1:][moved])}
    assert moved_keys == set(market.ex_rights) and moved_keys
    rows = quality.BarRows.of_rows(bars["ts_code"], bars["trade_date"], {k: bars[k] for k in ("close", "pre_close", "adj_factor")})
    assert quality.adj_gap_issues(rows) == []


def test_prices_are_clipped_at_the_daily_limit_and_some_days_hit_it(market) -> None:
    d = market.daily
    limit = np.array([0.2 if code[:3] in ("300", "688") else 0.1 for code in d["ts_code"]])
    up = np.floor(d["pre_close"] * (1 + limit) * 100 + 0.5 + 1e-9) / 100
    down = np.floor(d["pre_close"] * (1 - limit) * 100 + 0.5 + 1e-9) / 100
    for name in ("open", "high", "low", "close"):
        assert (d[name] <= up + 1e-9).all() and (d[name] >= down - 1e-9).all(), name
    assert (np.abs(d["close"] - up) < 1e-9).sum() > 0
    assert (np.abs(d["close"] - down) < 1e-9).sum() > 0
    rows = quality.BarRows.of_rows(d["ts_code"], d["trade_date"], {k: d[k] for k in ("open", "high", "low", "close", "vol")})
    assert quality.ohlc_issues(rows) == []


def test_suspended_days_are_missing_and_pre_close_is_the_last_traded_close(market) -> None:
    assert market.suspended
    bars = _by_stock(market.daily)
    for code, days in market.suspended.items():
        stored = {d.item() for d in bars["trade_date"][bars["ts_code"] == code]}
        assert not stored & set(days)
    same = bars["ts_code"][1:] == bars["ts_code"][:-1]
    ex_rights = set(market.ex_rights)
    keys = list(zip(bars["ts_code"][1:], (d.item() for d in bars["trade_date"][1:])))
    regular = same & np.array([key not in ex_rights for key in keys])
    np.testing.assert_array_equal(bars["pre_close"][1:][regular], bars["close"][:-1][regular])
    gaps = np.array([(b - a).astype(int) > 5 for a, b in zip(bars["trade_date"][:-1], bars["trade_date"][1:])])
    assert (regular & gaps).any()  # resumptions after a suspension are among them


def test_listing_states_and_indexes(market) -> None:
    statuses = [s.list_status for s in market.stocks]
    assert statuses.count("P") == 1 and statuses.count("D") >= 1
    for stock in market.stocks:
        traded = market.daily["trade_date"][market.daily["ts_code"] == stock.ts_code]
        if stock.list_status == "D":
            assert stock.delist_date is not None and traded.max().item() < stock.delist_date
        if traded.size:
            assert traded.min().item() >= stock.list_date
    index = market.index_daily
    assert set(index["ts_code"]) == {"000001.SH", "000300.SH"}
    assert (index["trade_date"][index["ts_code"] == "000001.SH"].size) == len(market.open_days)
    rows = quality.BarRows.of_rows(index["ts_code"], index["trade_date"], {k: index[k] for k in ("open", "high", "low", "close")})
    assert quality.ohlc_issues(rows) == []


def test_the_sample_source_answers_like_tushare() -> None:
    source = SampleMarketSource(SampleSpec(stocks=20, days=60))

    async def scenario():
        day = source.first_day
        daily = await source.bars(BarQuery("daily", trade_date=day, expect_rows=True))
        assert set(daily["trade_date"]) == {day} and len(daily) > 10
        calendar = await source.trade_cal("SSE", "20241001", "20241010")
        assert list(calendar["is_open"]) == [0] * 8 + [1, 1]  # National Day; the sample starts Oct 9
        assert (await source.bars(BarQuery("index_daily", ts_code="000905.SH"))).empty
        assert (await source.bars(BarQuery("stk_factor", trade_date=day))).empty
        with pytest.raises(SourceUnavailableError):
            await source.bars(BarQuery("daily", trade_date="20241005", expect_rows=True))
        listed = await source.stock_basic("L")
        paused = await source.stock_basic("P", expect_rows=False)
        assert len(listed) + len(paused) + len(await source.stock_basic("D", expect_rows=False)) == 20

    asyncio.run(scenario())
