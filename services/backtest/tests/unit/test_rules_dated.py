"""The rules in force flip exactly on their effective dates; boards come from the code."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from zquant_backtest.domain.boards import Board, Exchange, board_of, exchange_of
from zquant_backtest.domain.rules import RULES_VERSION, rules_on

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("code", "board"),
    [
        ("600000.SH", Board.MAIN),
        ("601398.SH", Board.MAIN),
        ("603288.SH", Board.MAIN),
        ("605499.SH", Board.MAIN),
        ("000001.SZ", Board.MAIN),
        ("001979.SZ", Board.MAIN),
        ("002032.SZ", Board.MAIN),
        ("003816.SZ", Board.MAIN),
        ("300750.SZ", Board.CHINEXT),
        ("301269.SZ", Board.CHINEXT),
        ("688981.SH", Board.STAR),
        ("689009.SH", Board.STAR),
        ("430047.BJ", Board.BSE),
        ("830799.BJ", Board.BSE),
        ("920002.BJ", Board.BSE),
    ],
)
def test_board_of_code(code: str, board: Board) -> None:
    assert board_of(code) is board


@pytest.mark.parametrize("code", ["300750.SH", "600000.SZ", "510300.SH", "000001", "159915.SZ"])
def test_codes_that_are_not_a_shares_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="not an A-share"):
        board_of(code)


def test_exchange_of_code() -> None:
    assert [exchange_of(c) for c in ("600000.SH", "000001.SZ", "830799.BJ")] == [
        Exchange.SSE,
        Exchange.SZSE,
        Exchange.BSE,
    ]


def test_stamp_duty_history() -> None:
    assert (rules_on(date(2007, 5, 29)).stamp_buy, rules_on(date(2007, 5, 29)).stamp_sell) == (0.001, 0.001)
    assert (rules_on(date(2007, 5, 30)).stamp_buy, rules_on(date(2007, 5, 30)).stamp_sell) == (0.003, 0.003)
    assert (rules_on(date(2008, 4, 24)).stamp_buy, rules_on(date(2008, 4, 24)).stamp_sell) == (0.001, 0.001)
    assert (rules_on(date(2008, 9, 18)).stamp_buy, rules_on(date(2008, 9, 18)).stamp_sell) == (0.001, 0.001)
    assert (rules_on(date(2008, 9, 19)).stamp_buy, rules_on(date(2008, 9, 19)).stamp_sell) == (0.0, 0.001)
    assert rules_on(date(2023, 8, 25)).stamp_sell == 0.001
    assert (rules_on(date(2023, 8, 28)).stamp_buy, rules_on(date(2023, 8, 28)).stamp_sell) == (0.0, 0.0005)


def test_transfer_fee_boundaries() -> None:
    sse, szse = int(Exchange.SSE), int(Exchange.SZSE)
    before = rules_on(date(2015, 7, 31))
    assert (before.transfer_per_share[sse], before.transfer_minimum[sse], before.transfer_rate[sse]) == (
        0.0006,
        1,
        0,
    )
    assert (before.transfer_per_share[szse], before.transfer_rate[szse]) == (0.0, 0.0)
    after = rules_on(date(2015, 8, 1))
    assert after.transfer_per_share[sse] == 0.0
    assert list(after.transfer_rate[[sse, szse]]) == [0.00002, 0.00002]
    assert list(rules_on(date(2022, 4, 28)).transfer_rate[[sse, szse]]) == [0.00002, 0.00002]
    assert list(rules_on(date(2022, 4, 29)).transfer_rate[[sse, szse]]) == [0.00001, 0.00001]
    assert rules_on(date(2012, 5, 31)).transfer_per_share[sse] == 0.001


def test_chinext_limit_and_listing_switch_on_2020_08_24() -> None:
    chinext = int(Board.CHINEXT)
    old, new = rules_on(date(2020, 8, 21)), rules_on(date(2020, 8, 24))
    assert (old.limit_pct[chinext], old.st_limit_pct[chinext], old.no_limit_days[chinext]) == (0.10, 0.05, 0)
    assert old.first_day_up[chinext] == 0.44
    assert (new.limit_pct[chinext], new.st_limit_pct[chinext], new.no_limit_days[chinext]) == (0.20, 0.20, 5)
    assert np.isnan(new.first_day_up[chinext])


def test_main_board_new_listings_before_and_after_2023_04_10() -> None:
    main = int(Board.MAIN)
    assert rules_on(date(2013, 12, 31)).no_limit_days[main] == 1
    capped = rules_on(date(2023, 4, 7))
    assert (capped.no_limit_days[main], capped.first_day_up[main], capped.first_day_down[main]) == (
        0,
        0.44,
        0.36,
    )
    assert rules_on(date(2023, 4, 10)).no_limit_days[main] == 5


def test_board_limits_and_lots_today() -> None:
    today = rules_on(date(2024, 6, 3))
    assert list(today.limit_pct) == [0.10, 0.20, 0.20, 0.30]
    assert list(today.st_limit_pct) == [0.05, 0.20, 0.20, 0.30]
    assert list(today.lot_minimum) == [100, 100, 200, 100]
    assert list(today.lot_step) == [100, 100, 1, 1]
    assert rules_on(date(1996, 12, 13)).limit_pct[int(Board.MAIN)] == np.inf
    assert rules_on(date(1996, 12, 16)).limit_pct[int(Board.MAIN)] == 0.10


def test_dividend_tax_regimes() -> None:
    assert not rules_on(date(2012, 12, 31)).dividend_tax.by_holding
    assert rules_on(date(2015, 9, 7)).dividend_tax.over_year == 0.05
    assert rules_on(date(2015, 9, 8)).dividend_tax.over_year == 0.0


def test_rules_version_and_start() -> None:
    assert RULES_VERSION.startswith("a-share-2023-08-28-")
    with pytest.raises(ValueError, match="starts on"):
        rules_on(date(1990, 12, 19))
