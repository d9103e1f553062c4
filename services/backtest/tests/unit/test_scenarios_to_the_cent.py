"""Hand-built scenarios on the full day cycle whose final cash is worked out by hand, to the cent.

2024 costs unless stated: commission 0.025% with a 5.00 minimum, stamp duty 0.05% on sells, transfer fee 0.001%
of value; every fee rounded half-up to the cent. Start: 100,000.00 cash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import pytest

from zquant_backtest.domain.corporate_actions import Dividend, DividendSchedule
from zquant_backtest.domain.day import DayResult, trade_day
from zquant_backtest.domain.fills import Universe, fill_orders
from zquant_backtest.domain.ledger import Ledger
from zquant_backtest.domain.orders import DayBars, FillSettings, Reason

pytestmark = pytest.mark.unit

UniverseOf = Callable[[Sequence[str]], Universe]
SETTINGS = FillSettings()


def _day(
    on: date,
    qty: int,
    bars: DayBars,
    universe: Universe,
    ledger: Ledger,
    dividends: DividendSchedule | None = None,
) -> DayResult:
    return trade_day(on, np.array([qty], dtype=np.int64), bars, universe, ledger, SETTINGS, dividends)


def test_buy_through_cash_dividend_and_bonus_shares_then_sell(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    universe = universe_of(["600000.SH"])
    # 10 送 3 派 5 (0.50 per share pre-tax): record 06-04, ex and pay 06-05, bonus shares listed 06-06.
    event = Dividend(0, date(2024, 6, 4), date(2024, 6, 5), date(2024, 6, 5), 0.50, 0.3, date(2024, 6, 6))
    ledger, schedule = Ledger(1, 100_000.0), DividendSchedule([event])
    # 06-03 buy 1,000 at 10.00: 10,000.00 + commission max(2.50, 5) = 5.00 + transfer 0.10 → cash 89,994.90.
    _day(date(2024, 6, 3), 1_000, bars(), universe, ledger, schedule)
    assert ledger.cash == pytest.approx(89_994.90, abs=1e-9)
    _day(date(2024, 6, 4), 0, bars(), universe, ledger, schedule)
    # 06-05: 300 bonus shares (1,000 × 0.3) and 500.00 cash arrive; the bonus shares are not sellable yet.
    ex_day = bars(open=7.50, high=7.60, low=7.40, close=7.50, pre_close=7.31)
    result = _day(date(2024, 6, 5), -1_300, ex_day, universe, ledger, schedule)
    assert result.fills.qty[0] == -1_000 and result.fills.refusals.reasons_of(0) == [Reason.T1_NOT_SELLABLE]
    # That sale: 7,500.00 − 5.00 (min commission) − 3.75 stamp − 0.08 transfer (0.075 ↑) = 7,491.17.
    assert ledger.cash == pytest.approx(89_994.90 + 500.00 + 7_491.17, abs=1e-9)
    assert (ledger.qty[0], ledger.sellable[0]) == (300, 0)
    # 06-06 the 300 listed shares sell at 7.60: 2,280.00 − 5.00 − 1.14 − 0.02 (0.0228) = 2,273.84.
    _day(date(2024, 6, 6), -300, bars(open=7.60, pre_close=7.50), universe, ledger, schedule)
    assert ledger.qty[0] == 0
    assert ledger.cash == pytest.approx(89_994.90 + 500.00 + 7_491.17 + 2_273.84, abs=1e-9)  # 100,259.91
    assert round(ledger.cash, 2) == 100_259.91


def test_dividend_tax_on_a_sale_within_a_month(bars: Callable[..., DayBars], universe_of: UniverseOf) -> None:
    universe = universe_of(["600000.SH"])
    event = Dividend(0, date(2024, 6, 4), date(2024, 6, 5), date(2024, 6, 5), 0.50, 0.0, date(2024, 6, 6))
    ledger, schedule = Ledger(1, 100_000.0, dividend_tax=True), DividendSchedule([event])
    _day(date(2024, 6, 3), 1_000, bars(), universe, ledger, schedule)  # cash 89,994.90
    _day(date(2024, 6, 4), 0, bars(), universe, ledger, schedule)
    _day(date(2024, 6, 5), 0, bars(open=9.50, pre_close=9.50), universe, ledger, schedule)  # + 500.00
    # 06-06 sell 1,000 at 9.50: 9,500 − 5.00 − 4.75 − 0.10 (0.095 ↑) = 9,490.15; held ≤ 1 month → 20% × 500.00.
    _day(date(2024, 6, 6), -1_000, bars(open=9.50, pre_close=9.50), universe, ledger, schedule)
    assert round(ledger.cash, 2) == round(89_994.90 + 500.00 + 9_490.15 - 100.00, 2) == 99_885.05
    assert ledger.dividend_tax_paid == pytest.approx(100.0)


def test_dividend_tax_withheld_on_payment_before_2013(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    universe = universe_of(["600000.SH"])
    event = Dividend(0, date(2010, 6, 8), date(2010, 6, 9), date(2010, 6, 9), 0.50, 0.0, date(2010, 6, 10))
    ledger, schedule = Ledger(1, 100_000.0, dividend_tax=True), DividendSchedule([event])
    # 2010: stamp duty 0.1% on sells only; SSE transfer fee 0.6 per 1,000 shares, minimum 1.00.
    _day(date(2010, 6, 7), 1_000, bars(), universe, ledger, schedule)  # 10,000 + 5.00 + 1.00 → 89,994.00
    _day(date(2010, 6, 8), 0, bars(), universe, ledger, schedule)
    # 财税[2005]102号: 10% withheld on payment → 500.00 − 50.00 = 450.00 credited, nothing more on sale.
    _day(date(2010, 6, 9), 0, bars(open=9.50, pre_close=9.50), universe, ledger, schedule)
    assert round(ledger.cash, 2) == 90_444.00 and ledger.dividend_tax_paid == pytest.approx(50.0)
    # Sell 1,000 at 9.50: 9,500 − 5.00 − 9.50 − 1.00 = 9,484.50 → 99,928.50.
    _day(date(2010, 6, 10), -1_000, bars(open=9.50, pre_close=9.50), universe, ledger, schedule)
    assert round(ledger.cash, 2) == 99_928.50 and ledger.dividend_tax_paid == pytest.approx(50.0)


def test_minimum_and_proportional_commission(bars: Callable[..., DayBars], universe_of: UniverseOf) -> None:
    universe = universe_of(["600000.SH"])
    ledger = Ledger(1, 200_000.0)
    # 100 × 12.34 = 1,234.00: commission 0.31 < 5 → 5.00; transfer 0.01 (0.01234). Cash 198,760.99.
    _day(date(2024, 6, 3), 100, bars(open=12.34, high=12.5, pre_close=12.3), universe, ledger)
    assert round(ledger.cash, 2) == 198_760.99
    # 10,000 × 12.34 = 123,400.00: commission 30.85, transfer 1.23 (1.234) → 123,432.08. Cash 75,328.91.
    _day(date(2024, 6, 4), 10_000, bars(open=12.34, high=12.5, pre_close=12.3), universe, ledger)
    assert round(ledger.cash, 2) == 75_328.91 and ledger.costs_paid == pytest.approx(5.01 + 32.08)


def test_limit_up_locked_day_leaves_cash_untouched(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    universe = universe_of(["600000.SH"])
    ledger = Ledger(1, 100_000.0)
    locked = bars(open=11.0, high=11.0, low=11.0, close=11.0, pre_close=10.0)  # 一字 limit-up bar
    result = _day(date(2024, 6, 3), 1_000, locked, universe, ledger)
    assert result.fills.refusals.reasons_of(0) == [Reason.LIMIT_UP_LOCKED]
    assert ledger.cash == 100_000.00 and ledger.qty[0] == 0
    # Next day it opens at 11.50 (limit 12.10): 11,500 + 5.00 + 0.12 (0.115 ↑) → 88,494.88.
    _day(date(2024, 6, 4), 1_000, bars(open=11.5, high=11.8, low=11.2, pre_close=11.0), universe, ledger)
    assert round(ledger.cash, 2) == 88_494.88


def test_suspension_no_fill_last_price_kept(bars: Callable[..., DayBars], universe_of: UniverseOf) -> None:
    universe = universe_of(["600000.SH"])
    ledger = Ledger(1, 100_000.0)
    first = _day(date(2024, 6, 3), 1_000, bars(close=10.20), universe, ledger)  # cash 89,994.90
    assert first.nav.nav == pytest.approx(89_994.90 + 10_200.00)
    halted = _day(date(2024, 6, 4), -1_000, bars(has_bar=False), universe, ledger)
    assert halted.fills.refusals.reasons_of(0) == [Reason.SUSPENDED]
    assert halted.nav.nav == pytest.approx(100_194.90) and halted.nav.market_value == pytest.approx(10_200.00)
    # Resumes: sell at 10.50: 10,500 − 5.00 − 5.25 − 0.11 (0.105 ↑) = 10,489.64 → 100,484.54.
    _day(date(2024, 6, 5), -1_000, bars(open=10.50, pre_close=10.20), universe, ledger)
    assert round(ledger.cash, 2) == 100_484.54


def test_t_plus_one(bars: Callable[..., DayBars], universe_of: UniverseOf) -> None:
    universe = universe_of(["600000.SH"])
    ledger = Ledger(1, 100_000.0)
    _day(date(2024, 6, 3), 1_000, bars(), universe, ledger)
    # A second batch the same day (e.g. an intraday re-decision) cannot sell what was bought today.
    same_day = fill_orders(
        date(2024, 6, 3),
        np.array([-1_000]),
        bars(),
        universe,
        ledger.qty,
        ledger.sellable,
        ledger.cash,
        SETTINGS,
    )
    assert same_day.qty[0] == 0 and same_day.refusals.reasons_of(0) == [Reason.T1_NOT_SELLABLE]
    _day(date(2024, 6, 4), -1_000, bars(open=10.50), universe, ledger)
    assert round(ledger.cash, 2) == 100_484.54  # 89,994.90 + 10,489.64


def test_star_odd_lot_sale(bars: Callable[..., DayBars], universe_of: UniverseOf) -> None:
    universe = universe_of(["688981.SH"])
    ledger = Ledger(1, 100_000.0)

    def star(price: float) -> DayBars:
        return bars(open=price, high=price + 1, low=price - 1, close=price, pre_close=price)

    # Buy 250 at 50.00 (≥ 200, step 1): 12,500 + 5.00 + 0.13 (0.125 ↑) → 87,494.87.
    _day(date(2024, 6, 3), 250, star(50.0), universe, ledger)
    assert round(ledger.cash, 2) == 87_494.87
    # Selling 50 would leave 200: not ≥ 200 and not the whole position → refused.
    refused = _day(date(2024, 6, 4), -50, star(51.0), universe, ledger)
    assert refused.fills.refusals.reasons_of(0) == [Reason.LOT_SIZE] and ledger.qty[0] == 250
    # Sell 210 at 51.00: 10,710 − 5.00 − 5.36 (5.355 ↑) − 0.11 = 10,699.53, leaving an odd lot of 40.
    _day(date(2024, 6, 5), -210, star(51.0), universe, ledger)
    # The 40 odd lot clears the position: 2,080 − 5.00 − 1.04 − 0.02 = 2,073.94.
    _day(date(2024, 6, 6), -40, star(52.0), universe, ledger)
    assert ledger.qty[0] == 0
    assert round(ledger.cash, 2) == round(87_494.87 + 10_699.53 + 2_073.94, 2) == 100_268.34


@pytest.mark.parametrize(
    ("sell_day", "stamp", "cash"),
    [(date(2023, 8, 25), 10.00, 99_979.80), (date(2023, 8, 28), 5.00, 99_984.80)],
)
def test_stamp_duty_boundary(
    bars: Callable[..., DayBars], universe_of: UniverseOf, sell_day: date, stamp: float, cash: float
) -> None:
    universe = universe_of(["600000.SH"])
    ledger = Ledger(1, 100_000.0)
    _day(date(2023, 8, 24), 1_000, bars(), universe, ledger)  # 10,000 + 5.00 + 0.10 (2023: 0.001%)
    result = _day(sell_day, -1_000, bars(), universe, ledger)
    assert result.fills.stamp_duty[0] == stamp
    # 100,000 − 10,005.10 + (10,000 − 5.00 − stamp − 0.10)
    assert round(ledger.cash, 2) == cash == round(100_000 - 10_005.10 + 10_000 - 5.00 - stamp - 0.10, 2)
