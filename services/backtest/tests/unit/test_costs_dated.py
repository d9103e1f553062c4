"""Costs of real orders across the dated boundaries: transfer fee 2015-08-01 and 2022-04-29, stamp duty
2008-09-19, and the buy-cost bound the cash check relies on."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from zquant_backtest.domain.boards import exchanges_of
from zquant_backtest.domain.costs import CommissionModel, Costs, affordable_shares, order_costs
from zquant_backtest.domain.rules import rules_on

pytestmark = pytest.mark.unit

COMMISSION = CommissionModel()


def _costs(on: date, codes: list[str], qty: list[int], price: float, buy: bool) -> Costs:
    n = len(codes)
    return order_costs(
        np.array(qty), np.full(n, price), np.full(n, buy), exchanges_of(codes), rules_on(on), COMMISSION
    )


def test_transfer_fee_across_2015_08_01() -> None:
    codes = ["600000.SH", "600000.SH", "000001.SZ"]
    # SSE 0.6 CNY per 1,000 shares with a 1.00 minimum: 1,000 shares → 0.60 → 1.00; 5,000 → 3.00; SZSE none.
    assert list(_costs(date(2015, 7, 31), codes, [1_000, 5_000, 5_000], 10.0, True).transfer_fee) == [
        1.0,
        3.0,
        0.0,
    ]
    # 0.002% of value on both exchanges: 10,000 → 0.20; 50,000 → 1.00.
    assert list(_costs(date(2015, 8, 3), codes, [1_000, 5_000, 5_000], 10.0, True).transfer_fee) == [
        0.2,
        1.0,
        1.0,
    ]


def test_transfer_fee_across_2022_04_29() -> None:
    codes = ["600000.SH", "000001.SZ"]
    assert list(_costs(date(2022, 4, 28), codes, [5_000, 5_000], 10.0, False).transfer_fee) == [1.0, 1.0]
    assert list(_costs(date(2022, 4, 29), codes, [5_000, 5_000], 10.0, False).transfer_fee) == [0.5, 0.5]


def test_stamp_duty_on_buys_ends_2008_09_19() -> None:
    for side in (True, False):
        assert _costs(date(2008, 9, 18), ["600000.SH"], [1_000], 10.0, side).stamp_duty[0] == 10.0
    assert _costs(date(2008, 9, 19), ["600000.SH"], [1_000], 10.0, True).stamp_duty[0] == 0.0
    assert _costs(date(2008, 9, 19), ["600000.SH"], [1_000], 10.0, False).stamp_duty[0] == 10.0
    assert _costs(date(2007, 5, 30), ["600000.SH"], [1_000], 10.0, True).stamp_duty[0] == 30.0


def test_commission_has_a_minimum_per_order() -> None:
    costs = _costs(date(2024, 6, 3), ["600000.SH"] * 3, [100, 2_000, 10_000], 10.0, True)
    assert list(costs.commission) == [5.0, 5.0, 25.0]
    assert list(_costs(date(2024, 6, 3), ["600000.SH"], [0], 10.0, True).total) == [0.0]


@pytest.mark.parametrize("on", [date(2008, 9, 1), date(2014, 6, 3), date(2024, 6, 3)])
def test_affordable_shares_is_the_exact_bound(on: date) -> None:
    """cost(floor(bound)) ≤ cash < cost(floor(bound) + 1) before cent rounding, over many prices and budgets."""
    rng = np.random.default_rng(3)
    cash, price = rng.uniform(100, 1e6, 400), np.round(rng.uniform(1, 300, 400), 2)
    codes = ["600000.SH", "000001.SZ"] * 200
    rules, exchanges = rules_on(on), exchanges_of(codes)
    bound = np.floor(affordable_shares(cash, price, exchanges, rules, COMMISSION))

    def raw_cost(q: np.ndarray) -> np.ndarray:
        value = q * price
        fee = np.where(
            rules.transfer_per_share[exchanges] > 0,
            np.maximum(q * rules.transfer_per_share[exchanges], rules.transfer_minimum[exchanges]),
            0.0,
        )
        return (
            value * (1 + rules.stamp_buy + rules.transfer_rate[exchanges])
            + fee
            + np.maximum(value * COMMISSION.rate, COMMISSION.minimum)
        )

    assert np.all(raw_cost(bound) <= cash + 1e-6)
    assert np.all(raw_cost(bound + 1) > cash - 1e-6)
