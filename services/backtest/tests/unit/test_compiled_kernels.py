"""The numba kernels against the numpy formulas they replace, bit for bit, on random orders across rule changes
(SSE's per-share transfer fee, the 2015 and 2022 transfer rates, the 2023 stamp duty, ChiNext's 2020 limits)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from zquant_backtest.domain.costs import CommissionModel, order_costs
from zquant_backtest.domain.limits import price_limits, round_half_up_cents, scaled_price
from zquant_backtest.domain.rules import DayRules, rules_on

pytestmark = pytest.mark.unit

DATES = (date(2014, 6, 3), date(2015, 8, 3), date(2020, 8, 24), date(2022, 5, 5), date(2023, 8, 28))


def _numpy_costs(qty, price, is_buy, exchanges, rules: DayRules, model: CommissionModel):  # type: ignore[no-untyped-def]
    traded, value = qty > 0, qty * price
    broker = np.where(traded, np.maximum(round_half_up_cents(value * model.rate), model.minimum), 0.0)
    stamp = np.where(
        traded, round_half_up_cents(value * np.where(is_buy, rules.stamp_buy, rules.stamp_sell)), 0.0
    )
    per_share_fee = rules.transfer_per_share[exchanges]
    per_share = np.maximum(qty * per_share_fee, rules.transfer_minimum[exchanges])
    fee = round_half_up_cents(
        np.where(per_share_fee > 0, per_share, 0.0) + value * rules.transfer_rate[exchanges]
    )
    return broker, stamp, np.where(traded, fee, 0.0)


def _numpy_limits(rules: DayRules, boards, pre_close, is_st, list_days, given_up):  # type: ignore[no-untyped-def]
    pct = np.where(is_st, rules.st_limit_pct[boards], rules.limit_pct[boards])
    no_limit = (list_days <= rules.no_limit_days[boards]) | ~np.isfinite(pct)
    first_up = rules.first_day_up[boards]
    cap = (list_days == 1) & np.isfinite(first_up) & ~no_limit
    finite = ~no_limit & np.isfinite(pre_close)
    safe = np.where(finite, pre_close, 0.0)
    up_pct = np.where(finite, np.where(cap, first_up, pct), 0.0)
    down_pct = np.where(finite, np.where(cap, rules.first_day_down[boards], pct), 0.0)
    up = np.where(finite, scaled_price(safe, up_pct, +1), np.inf)
    down = np.where(finite, scaled_price(safe, down_pct, -1), 0.0)
    return np.where(np.isfinite(given_up), given_up, up), down


@pytest.mark.parametrize("on", DATES)
def test_compiled_costs_equal_the_numpy_formula(on: date) -> None:
    rng = np.random.default_rng(on.toordinal())
    n = 2_000
    qty = rng.integers(-100, 50_000, n) * np.where(rng.random(n) < 0.5, 1, 100)
    price = np.round(rng.uniform(0.5, 300.0, n), 2)
    is_buy, exchanges = rng.random(n) < 0.5, rng.integers(0, 3, n).astype(np.int8)
    model = CommissionModel(rate=float(rng.uniform(0.0001, 0.003)), minimum=5.0)
    got = order_costs(qty, price, is_buy, exchanges, rules_on(on), model)
    want = _numpy_costs(qty, price, is_buy, exchanges, rules_on(on), model)
    for compiled, reference in zip((got.commission, got.stamp_duty, got.transfer_fee), want, strict=True):
        assert np.array_equal(compiled, reference)


@pytest.mark.parametrize("on", DATES)
def test_compiled_limits_equal_the_numpy_formula(on: date) -> None:
    rng = np.random.default_rng(on.toordinal() + 1)
    n = 2_000
    boards = rng.integers(0, 4, n).astype(np.int8)
    pre_close = np.where(rng.random(n) < 0.05, np.nan, np.round(rng.uniform(1.0, 200.0, n), 2))
    is_st, list_days = rng.random(n) < 0.1, rng.integers(-2, 12, n)
    given_up = np.where(rng.random(n) < 0.2, np.round(rng.uniform(1.0, 200.0, n), 2), np.nan)
    got = price_limits(rules_on(on), boards, pre_close, is_st, list_days, given_up, None)
    want_up, want_down = _numpy_limits(rules_on(on), boards, pre_close, is_st, list_days, given_up)
    assert np.array_equal(got.up, want_up) and np.array_equal(got.down, want_down)
