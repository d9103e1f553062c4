"""Price limits: half-up cent rounding of exact products, boards, ST, new listings, and stk_limit precedence."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from zquant_backtest.domain.boards import boards_of
from zquant_backtest.domain.limits import price_limits, round_half_up_cents, scaled_price
from zquant_backtest.domain.rules import rules_on

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("pre_close", "pct", "sign", "expected"),
    [
        (4.57, 0.10, +1, 5.03),  # 5.027
        (4.57, 0.10, -1, 4.11),  # 4.113
        (10.05, 0.10, +1, 11.06),  # 11.055, half-up
        (10.05, 0.10, -1, 9.05),  # 9.045, half-up
        (3.35, 0.05, +1, 3.52),  # 3.5175
        (12.35, 0.20, -1, 9.88),
        (8.15, 0.44, +1, 11.74),  # 11.736
        (8.15, 0.36, -1, 5.22),  # 5.216
    ],
)
def test_scaled_price_rounds_half_up_to_the_cent(
    pre_close: float, pct: float, sign: int, expected: float
) -> None:
    assert scaled_price(np.array([pre_close]), np.array([pct]), sign)[0] == expected


def test_money_rounds_half_up() -> None:
    assert list(round_half_up_cents(np.array([12.345, 0.125, 2.675, 1.004999, 2.5]))) == [
        12.35,
        0.13,
        2.68,
        1.0,
        2.5,
    ]


def test_limits_by_board_st_and_listing_age() -> None:
    codes = ["600000.SH", "600001.SH", "300750.SZ", "688981.SH", "830799.BJ", "600002.SH", "300751.SZ"]
    on = date(2024, 6, 3)
    limits = price_limits(
        rules_on(on),
        boards_of(codes),
        pre_close=np.full(7, 10.0),
        is_st=np.array([False, True, True, False, False, False, False]),
        list_days=np.array([500, 500, 500, 500, 500, 5, 6]),
    )
    assert list(limits.up[:5]) == [11.0, 10.5, 12.0, 12.0, 13.0]
    assert list(limits.down[:5]) == [9.0, 9.5, 8.0, 8.0, 7.0]
    assert (limits.up[5], limits.down[5]) == (np.inf, 0.0)  # main board, 5th day after listing, 2023+ rule
    assert (limits.up[6], limits.down[6]) == (12.0, 8.0)


def test_first_day_44_percent_cap_before_2023_04_10() -> None:
    limits = price_limits(
        rules_on(date(2019, 3, 1)),
        boards_of(["603999.SH", "603999.SH"]),
        pre_close=np.array([8.15, 8.15]),
        is_st=np.zeros(2, bool),
        list_days=np.array([1, 2]),
    )
    assert (limits.up[0], limits.down[0]) == (11.74, 5.22)
    assert (limits.up[1], limits.down[1]) == (8.97, 7.34)  # 8.965 → 8.97, 7.335 → 7.34


def test_chinext_limit_across_2020_08_24() -> None:
    board = boards_of(["300001.SZ"])
    common = {"pre_close": np.array([10.0]), "is_st": np.array([False]), "list_days": np.array([2000])}
    assert price_limits(rules_on(date(2020, 8, 21)), board, **common).up[0] == 11.0
    assert price_limits(rules_on(date(2020, 8, 24)), board, **common).up[0] == 12.0


def test_published_limits_win_where_present() -> None:
    limits = price_limits(
        rules_on(date(2024, 6, 3)),
        boards_of(["600000.SH", "600001.SH"]),
        pre_close=np.array([10.0, 10.0]),
        is_st=np.zeros(2, bool),
        list_days=np.array([99, 99]),
        given_up=np.array([10.99, np.nan]),
        given_down=np.array([9.01, np.nan]),
    )
    assert list(limits.up) == [10.99, 11.0] and list(limits.down) == [9.01, 9.0]


def test_star_and_bse_no_limit_listing_days() -> None:
    codes = ["688001.SH", "688001.SH", "830799.BJ", "830799.BJ"]
    limits = price_limits(
        rules_on(date(2024, 6, 3)),
        boards_of(codes),
        pre_close=np.full(4, 20.0),
        is_st=np.zeros(4, bool),
        list_days=np.array([5, 6, 1, 2]),
    )
    assert list(limits.up) == [np.inf, 24.0, np.inf, 26.0]
    assert list(limits.down) == [0.0, 16.0, 0.0, 14.0]
