"""Pure quality checks, on the real bank data of shared/data and on corrupted copies of it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from zquant_kit.testing import SHARED_DATA
from zquant_marketdata.application.validate import bar_rows
from zquant_marketdata.domain import quality
from zquant_marketdata.domain.bar_rows import BarRows

pytestmark = pytest.mark.unit

DATA = SHARED_DATA / "a_share"
EX_DAY = pd.Timestamp("2023-07-17")


@pytest.fixture(scope="module")
def banks() -> pd.DataFrame:
    daily = pd.read_csv(DATA / "daily.csv", dtype={"ts_code": str, "trade_date": str})
    adj = pd.read_csv(DATA / "adj_factor.csv", dtype={"ts_code": str, "trade_date": str})
    frame = daily.merge(adj, on=["ts_code", "trade_date"])
    frame["trade_date"] = pd.to_datetime(frame["trade_date"], format="%Y%m%d")
    return frame


def test_real_banks_have_no_ohlc_or_ex_rights_issues(banks: pd.DataFrame) -> None:
    rows = bar_rows(banks)
    assert quality.ohlc_issues(rows) == []
    assert quality.adj_gap_issues(rows) == []


def test_the_icbc_ex_rights_day_is_a_real_gap_that_passes(banks: pd.DataFrame) -> None:
    icbc = banks[banks["ts_code"] == "601398.SH"].set_index("trade_date")
    assert icbc.loc[EX_DAY, "pre_close"] == pytest.approx(4.57)
    assert icbc.loc[EX_DAY, "adj_factor"] / icbc.loc[pd.Timestamp("2023-07-14"), "adj_factor"] > 1.06
    assert quality.adj_gap_issues(bar_rows(banks[banks["ts_code"] == "601398.SH"])) == []


def test_a_pre_close_without_the_gap_is_flagged(banks: pd.DataFrame) -> None:
    corrupted = banks.copy()
    at = (corrupted["ts_code"] == "601398.SH") & (corrupted["trade_date"] == EX_DAY)
    corrupted.loc[at, "pre_close"] = 4.87  # the ex-rights gap erased
    issues = quality.adj_gap_issues(bar_rows(corrupted))
    assert [(i.kind, i.ts_code, i.trade_date) for i in issues] == [
        ("adj_factor_without_gap", "601398.SH", dt.date(2023, 7, 17))
    ]
    assert "adj_factor moved" in issues[0].detail


def test_a_factor_jump_on_an_ordinary_day_is_flagged(banks: pd.DataFrame) -> None:
    corrupted = banks.copy()
    code = corrupted["ts_code"] == "601988.SH"
    later = code & (corrupted["trade_date"] >= pd.Timestamp("2021-03-01"))
    corrupted.loc[later, "adj_factor"] *= 1.05
    issues = quality.adj_gap_issues(bar_rows(corrupted))
    assert [(i.ts_code, i.trade_date) for i in issues] == [("601988.SH", dt.date(2021, 3, 1))]


def test_insane_ohlc_and_negative_volume_are_flagged(banks: pd.DataFrame) -> None:
    corrupted = banks.copy()
    corrupted.loc[3, "high"] = corrupted.loc[3, "low"] - 0.5
    corrupted.loc[7, "vol"] = -1
    issues = quality.ohlc_issues(bar_rows(corrupted))
    assert sorted(i.kind for i in issues) == ["negative_volume", "ohlc_insane"]


def test_missing_runs_inside_the_listed_life_and_their_classes() -> None:
    days = [dt.date(2024, 1, d) for d in (2, 3, 4, 5, 8, 9, 10, 11)]
    present = {days[0], days[1], days[5]}
    runs = quality.missing_runs(present, days, dt.date(2024, 1, 1), dt.date(2024, 1, 10))
    assert runs == [[days[2], days[3], days[4]], [days[6]]]  # Jan 11 is after the listed life
    issues = quality.classify_missing("000001.SZ", runs, source_days={days[4]})
    assert [(i.kind, i.trade_date) for i in issues] == [
        ("suspension", days[2]), ("missing_trade_day", days[4]), ("suspension", days[6]),
    ]  # fmt: skip
    assert "2 open day(s)" in issues[0].detail


def test_compare_rows_reports_both_sides_and_differences() -> None:
    local = BarRows.of_rows(["A", "A", "B"], np.array(["2024-01-02", "2024-01-03", "2024-01-02"], dtype="datetime64[D]"),
                    {"close": [1.0, 2.0, np.nan], "vol": [1.0, 1.0, 1.0]})  # fmt: skip
    remote = BarRows.of_rows(["A", "B", "C"], np.array(["2024-01-02", "2024-01-02", "2024-01-02"], dtype="datetime64[D]"),
                     {"close": [1.0, np.nan, 3.0], "vol": [1.5, 1.0, 1.0]})  # fmt: skip
    issues = {(i.kind, i.ts_code, i.trade_date.isoformat()) for i in quality.compare_rows(local, remote)}
    assert issues == {
        ("source_mismatch", "A", "2024-01-02"),
        ("missing_at_source", "A", "2024-01-03"),
        ("missing_locally", "C", "2024-01-02"),
    }
