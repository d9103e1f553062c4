"""The sample market's rule datasets hold every case the backtest rules meet: ST periods whose
bars respect ±5%, one-price bars locked at the limit, suspensions, cash dividends with bonus
shares that match the ex-rights prices, daily limits and index constituents; the sample source
serves them as Tushare does."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from zquant_marketdata.adapters.sample_source import SampleMarketSource
from zquant_marketdata.application.source_port import BarQuery
from zquant_marketdata.domain import quality
from zquant_marketdata.domain.bar_rows import BarRows
from zquant_marketdata.domain.rule_datasets import IMPLEMENTED, is_st_name
from zquant_marketdata.domain.sample_market import SampleSpec, generate, round2
from zquant_marketdata.domain.sample_rules import INDEX_CODE, ST_DAYS, derive

pytestmark = pytest.mark.unit

SPEC = SampleSpec(stocks=40, days=250)


@pytest.fixture(scope="module")
def market():
    return generate(SPEC)


@pytest.fixture(scope="module")
def rules(market):
    return derive(market)


def test_st_periods_have_st_names_and_bars_within_five_percent(rules) -> None:
    assert rules.st_periods
    limits, daily = rules.stk_limit, rules.daily
    for code, start, end in rules.st_periods:
        names = [r for r in rules.namechange if r["ts_code"] == code and is_st_name(r["name"])]
        assert [(r["start_date"], r["end_date"]) for r in names] == [(start, end)]
        rows = (daily["ts_code"] == code) & (daily["trade_date"] >= np.datetime64(start)) & (
            daily["trade_date"] <= np.datetime64(end)
        )
        assert rows.sum() == ST_DAYS
        np.testing.assert_array_equal(limits["up_limit"][rows], round2(daily["pre_close"][rows] * 1.05))
        assert (daily["high"][rows] <= limits["up_limit"][rows] + 1e-9).all()
        assert (daily["low"][rows] >= limits["down_limit"][rows] - 1e-9).all()


def test_locked_days_are_one_price_bars_at_the_limit(market, rules) -> None:
    assert rules.locked
    d, limits = rules.daily, rules.stk_limit
    lookup = {(c, t): i for i, (c, t) in enumerate(zip(d["ts_code"].tolist(), d["trade_date"].tolist()))}
    for code, day in rules.locked:
        i = lookup[(code, day)]
        assert d["open"][i] == d["high"][i] == d["low"][i] == d["close"][i]
        assert d["close"][i] in (limits["up_limit"][i], limits["down_limit"][i])
    assert any(d["close"][lookup[k]] == limits["up_limit"][lookup[k]] for k in rules.locked)
    unlocked = np.ones(d["close"].size, dtype=bool)
    unlocked[[lookup[k] for k in rules.locked]] = False
    np.testing.assert_array_equal(d["open"][unlocked], market.daily["open"][unlocked])  # nothing else moves
    np.testing.assert_array_equal(d["close"], market.daily["close"])
    rows = BarRows.of_rows(d["ts_code"], d["trade_date"], {k: d[k] for k in ("open", "high", "low", "close", "vol")})
    assert quality.ohlc_issues(rows) == []


def test_suspensions_dividends_and_constituents(market, rules) -> None:
    assert {(r["ts_code"], r["trade_date"]) for r in rules.suspend_d} == {
        (code, day) for code, days in market.suspended.items() for day in days
    }
    assert {(r["ts_code"], r["ex_date"]) for r in rules.dividend} == set(market.ex_rights)
    assert all(r["div_proc"] == IMPLEMENTED and r["cash_div_tax"] > 0 for r in rules.dividend)
    assert any(r["stk_div"] > 0 for r in rules.dividend)  # bonus shares, not only cash
    d = market.daily
    for r in rules.dividend:
        i = np.flatnonzero((d["ts_code"] == r["ts_code"]) & (d["trade_date"] == np.datetime64(r["ex_date"])))[0]
        previous = np.flatnonzero((d["ts_code"] == r["ts_code"]) & (d["trade_date"] < np.datetime64(r["ex_date"])))[-1]
        ex_price = (d["close"][previous] - r["cash_div_tax"]) / (1.0 + r["stk_div"])
        assert abs(d["pre_close"][i] - max(round2(np.array([ex_price]))[0], 0.01)) <= 0.011  # the cent rounding
        assert r["record_date"] < r["ex_date"] == r["pay_date"]
    by_day: dict = {}
    for r in rules.index_weight:
        assert r["index_code"] == INDEX_CODE
        by_day[r["trade_date"]] = by_day.get(r["trade_date"], 0.0) + r["weight"]
    assert len(by_day) >= 12 and all(abs(total - 100.0) < 0.01 for total in by_day.values())


def test_the_sample_source_serves_the_rule_datasets() -> None:
    source = SampleMarketSource(SampleSpec(stocks=40, days=250))

    async def scenario():
        day = source.first_day
        limits = await source.bars(BarQuery("stk_limit", trade_date=day))
        assert set(limits["trade_date"]) == {day} and (limits["up_limit"] > limits["down_limit"]).all()
        weights = await source.fetch_table("index_weight", {"index_code": INDEX_CODE, "start_date": day, "end_date": day})
        assert len(weights) == 40 // 3 and list(weights.columns) == ["index_code", "con_code", "trade_date", "weight"]
        names = await source.fetch_table("namechange", {"start_date": "19900101", "end_date": "20991231"})
        assert names["name"].map(is_st_name).any()
        dividends = await source.fetch_table("dividend", {"ex_date": "20000101"})
        assert dividends.empty and "cash_div_tax" in dividends.columns

    asyncio.run(scenario())
