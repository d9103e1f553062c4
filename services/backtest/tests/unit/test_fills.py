"""The fill kernel, rule by rule, on small universes: timing, locks, suspension, slippage, caps, lots, cash."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import pytest

from zquant_backtest.domain.fills import Universe, fill_orders
from zquant_backtest.domain.orders import DayBars, DayFills, FillSettings, Reason, Timing

pytestmark = pytest.mark.unit

ON = date(2024, 6, 3)
DEFAULT = FillSettings()
UniverseOf = Callable[[Sequence[str]], Universe]


def _fill(
    universe: Universe,
    orders: list[int],
    bars: DayBars,
    held: list[int] | None = None,
    sellable: list[int] | None = None,
    cash: float = 1_000_000.0,
    settings: FillSettings = DEFAULT,
) -> DayFills:
    total = np.array(held if held is not None else [0] * len(orders), dtype=np.int64)
    free = np.array(sellable if sellable is not None else total, dtype=np.int64)
    return fill_orders(ON, np.array(orders, dtype=np.int64), bars, universe, total, free, cash, settings)


def test_timing_open_close_and_vwap_in_tushare_units(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    day = bars(open=10.0, close=10.4, high=10.5, volume=10_000.0, amount=10_250.0)  # 1.025e7 CNY / 1e6 shares
    universe = universe_of(["600000.SH"])
    assert _fill(universe, [100], day).price[0] == 10.0
    assert _fill(universe, [100], day, settings=FillSettings(timing=Timing.CLOSE)).price[0] == 10.4
    assert _fill(universe, [100], day, settings=FillSettings(timing=Timing.VWAP)).price[0] == pytest.approx(
        10.25
    )


def test_a_buy_at_a_locked_up_limit_is_refused(bars: Callable[..., DayBars], universe_of: UniverseOf) -> None:
    universe = universe_of(["600000.SH"] * 3)
    day = bars(3, open=[11.0, 10.5, 11.0], high=[11.0, 11.0, 11.0], low=[10.6, 10.4, 11.0], close=11.0)
    fills = _fill(universe, [100, 100, 100], day, settings=FillSettings(timing=Timing.CLOSE))
    # 0 opened at the limit, 2 is a one-price bar: locked; 1 only closed at the limit and traded below it.
    assert list(fills.qty) == [0, 100, 0]
    assert fills.refusals.reasons_of(0) == [Reason.LIMIT_UP_LOCKED] == fills.refusals.reasons_of(2)


def test_a_sell_at_a_locked_down_limit_is_refused(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    day = bars(2, open=[9.0, 9.2], high=[9.3, 9.3], low=[9.0, 9.0], close=9.0)
    fills = _fill(universe_of(["600000.SH"] * 2), [-100, -100], day, held=[100, 100])
    assert list(fills.qty) == [0, -100]
    assert fills.refusals.reasons_of(0) == [Reason.LIMIT_DOWN_LOCKED]


def test_no_bar_no_fill(bars: Callable[..., DayBars], universe_of: UniverseOf) -> None:
    fills = _fill(universe_of(["600000.SH"] * 2), [100, -100], bars(2, has_bar=False), held=[0, 100])
    assert list(fills.qty) == [0, 0] and list(fills.cash_flow) == [0.0, 0.0]
    assert fills.refusals.reasons_of(0) == [Reason.SUSPENDED] == fills.refusals.reasons_of(1)


def test_slippage_moves_the_price_and_is_clipped_into_the_limits(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    day = bars(3, open=[10.0, 10.99, 10.0], high=11.0, low=9.0)
    fills = _fill(
        universe_of(["600000.SH"] * 3),
        [100, 100, -100],
        day,
        held=[0, 0, 100],
        settings=FillSettings(slippage_bps=10.0),
    )
    assert fills.price[0] == pytest.approx(10.01) and fills.slippage[0] == pytest.approx(1.0)
    assert fills.price[1] == 11.0  # 10.99 × 1.001 = 11.00099, clipped to the up limit
    assert fills.price[2] == pytest.approx(9.99)


def test_volume_cap_fills_part_and_records_the_rest(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    fills = _fill(universe_of(["600000.SH"]), [500], bars(volume=10.0), settings=FillSettings(volume_cap=0.1))
    assert fills.qty[0] == 100  # 10 手 = 1,000 shares, 10% = 100
    assert fills.refusals.reasons_of(0) == [Reason.VOLUME_CAP] and fills.refusals.requested[0] == 500


def test_buy_lots_by_board(bars: Callable[..., DayBars], universe_of: UniverseOf) -> None:
    universe = universe_of(["600000.SH", "300750.SZ", "688981.SH", "688981.SH", "830799.BJ", "600000.SH"])
    fills = _fill(universe, [250, 199, 199, 201, 101, 99], bars(6))
    assert list(fills.qty) == [200, 100, 0, 201, 101, 0]
    assert [int(i) for i in fills.refusals.index] == [0, 1, 2, 5]
    assert set(fills.refusals.reason.tolist()) == {Reason.LOT_SIZE}


def test_odd_lots_sell_only_when_they_clear_the_position(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    universe = universe_of(["600000.SH", "600000.SH", "688981.SH", "688981.SH"])
    fills = _fill(universe, [-120, -150, -50, -240], bars(4), held=[150, 150, 240, 240])
    assert list(fills.qty) == [-100, -150, 0, -240]
    assert fills.refusals.reasons_of(0) == [Reason.LOT_SIZE] == fills.refusals.reasons_of(2)


def test_sells_need_a_sellable_position(bars: Callable[..., DayBars], universe_of: UniverseOf) -> None:
    fills = _fill(
        universe_of(["600000.SH"] * 3), [-100, -300, -100], bars(3), held=[0, 300, 300], sellable=[0, 200, 0]
    )
    assert list(fills.qty) == [0, -200, 0]
    assert fills.refusals.reasons_of(0) == [Reason.NO_POSITION]
    assert fills.refusals.reasons_of(1) == [Reason.T1_NOT_SELLABLE] == fills.refusals.reasons_of(2)


def test_buys_are_cut_to_whole_lots_the_cash_pays_for(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    # 500 shares would cost 5,000 + 5.00 commission + 0.05 transfer fee > 5,000; 400 cost 4,005.04.
    fills = _fill(universe_of(["600000.SH"]), [1_000], bars(), cash=5_000.0)
    assert fills.qty[0] == 400 and fills.cash_flow[0] == pytest.approx(-4_005.04, abs=1e-9)
    assert fills.refusals.reasons_of(0) == [Reason.INSUFFICIENT_CASH]


def test_sale_proceeds_pay_for_the_same_days_buys(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    fills = _fill(universe_of(["600000.SH", "600001.SH"]), [-1_000, 500], bars(2), held=[1_000, 0], cash=0.0)
    assert list(fills.qty) == [-1_000, 500]
    assert fills.cash_flow.sum() >= -1e-9 and fills.refusals.index.size == 0


def test_many_buys_share_the_cash_and_never_overdraw(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    rng = np.random.default_rng(7)
    n = 200
    codes = [f"{600000 + i}.SH" for i in range(n)]
    prices = np.round(rng.uniform(2, 80, n), 2)
    day = bars(n, open=prices, high=prices * 1.05, low=prices * 0.95, close=prices, pre_close=prices)
    fills = _fill(universe_of(codes), list(rng.integers(1, 50, n) * 100), day, cash=300_000.0)
    assert -fills.cash_flow.sum() <= 300_000.0
    assert set(fills.refusals.reason.tolist()) == {Reason.INSUFFICIENT_CASH}
    assert np.all(fills.qty % 100 == 0)


def test_cash_left_by_lot_rounding_tops_up_the_cut_buys(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    # Both 1,000-share buys cut in proportion to 400 (4,005.04 each, 1,989.92 left); the first then takes one more
    # lot (500 shares: 5,005.05) and 989.91 stay unspent, too little for another 100 shares (1,005.01).
    fills = _fill(universe_of(["600000.SH", "600001.SH"]), [1_000, 1_000], bars(2), cash=10_000.0)
    assert list(fills.qty) == [500, 400]
    assert -fills.cash_flow.sum() == pytest.approx(5_005.05 + 4_005.04, abs=1e-9)
