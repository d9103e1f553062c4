"""Filling only the ordered codes gives exactly what the kernel gives on the whole universe: same fills, costs and
refusals, on a wide seeded day with every kind of cut (cash, lots, T+1, locked limits, suspension, volume cap)."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest

from zquant_backtest.domain.boards import boards_of, exchanges_of
from zquant_backtest.domain.fills import Universe, fill_orders
from zquant_backtest.domain.orders import DayBars, FillSettings

pytestmark = pytest.mark.unit


def _wide_day(n: int, seed: int) -> tuple[DayBars, Universe, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = [f"{600000 + i:06d}.SH" if i % 3 else f"{688000 + i:06d}.SH" for i in range(n)]  # a third STAR
    pre = np.round(rng.uniform(5, 50, n), 2)
    open_ = np.round(pre * (1 + rng.normal(0, 0.03, n)), 2)
    locked = rng.random(n) < 0.1
    open_ = np.where(locked, np.round(pre * 1.1, 2), open_)
    bars = DayBars(
        open=open_,
        high=np.where(locked, open_, open_ * 1.02),
        low=np.where(locked, open_, open_ * 0.98),
        close=open_,
        volume=rng.uniform(1, 2_000, n),
        amount=open_ * 100.0,
        pre_close=pre,
        has_bar=rng.random(n) > 0.05,
        is_st=rng.random(n) < 0.05,
        list_days=np.full(n, 1_000),
    )
    held = np.where(rng.random(n) < 0.5, rng.integers(1, 50, n) * 100 + rng.integers(0, 2, n) * 37, 0)
    sellable = np.minimum(held, rng.integers(0, 40, n) * 100)
    orders = np.zeros(n, dtype=np.int64)
    ordered = rng.choice(n, size=n // 10, replace=False)
    orders[ordered] = rng.integers(-3_000, 8_000, ordered.size)
    return bars, Universe(boards_of(codes), exchanges_of(codes)), held, sellable, orders


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_compact_fills_equal_the_whole_universe_kernel(seed: int) -> None:
    bars, universe, held, sellable, orders = _wide_day(400, seed)
    settings = FillSettings(slippage_bps=3.0, volume_cap=0.05)
    for cash in (50_000.0, 5_000_000.0):
        whole = fill_orders(
            date(2023, 9, 1), orders, bars, universe, held, sellable, cash, settings, compact=False
        )
        compact = fill_orders(date(2023, 9, 1), orders, bars, universe, held, sellable, cash, settings)
        assert whole.refusals.index.size > 10 and np.count_nonzero(whole.qty) > 5
        for item in dataclasses.fields(whole):
            mine, theirs = getattr(compact, item.name), getattr(whole, item.name)
            if item.name == "refusals":
                for column in dataclasses.fields(theirs):
                    assert np.array_equal(getattr(mine, column.name), getattr(theirs, column.name))
            else:
                assert np.array_equal(mine, theirs, equal_nan=True), item.name
