"""The ledger: a NAV that moves with each day's holdings and prices, FIFO round trips with fees, bonus shares in the
lots, the dated dividend tax by holding period, and the adj_factor carry on real ex-rights data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import pandas as pd
import pytest

from zquant_backtest.domain.corporate_actions import carry_by_adj_factor, default_listing_date
from zquant_backtest.domain.day import trade_day
from zquant_backtest.domain.fills import Universe
from zquant_backtest.domain.ledger import Ledger
from zquant_backtest.domain.lots import LotBook, add_months, holding_rate
from zquant_backtest.domain.metrics import nav_returns, trade_stats
from zquant_backtest.domain.orders import DayBars, FillSettings
from zquant_backtest.domain.rules import rules_on
from zquant_kit.testing.paths import SHARED_DATA

pytestmark = pytest.mark.unit

UniverseOf = Callable[[Sequence[str]], Universe]
SETTINGS = FillSettings()


def _run(days: list[tuple[date, int, DayBars]], universe: Universe, ledger: Ledger) -> list[float]:
    return [trade_day(on, np.array([q]), bars, universe, ledger, SETTINGS).nav.nav for on, q, bars in days]


def test_nav_is_valued_each_day_with_that_days_holdings(
    bars: Callable[..., DayBars], universe_of: UniverseOf
) -> None:
    ledger = Ledger(1, 100_000.0)
    navs = _run(
        [
            (date(2024, 6, 3), 1_000, bars(close=10.0)),
            (date(2024, 6, 4), 0, bars(close=11.0)),
            (date(2024, 6, 5), 0, bars(close=9.0)),
            (date(2024, 6, 6), -1_000, bars(open=9.0, low=8.9, close=9.5, pre_close=9.0)),
        ],
        universe_of(["600000.SH"]),
        ledger,
    )
    cash = 100_000 - 10_005.10
    assert navs[:3] == pytest.approx([cash + 10_000, cash + 11_000, cash + 9_000])
    assert navs[3] == pytest.approx(cash + 9_000 - 5.00 - 4.50 - 0.09)  # flat again, at the sale's cash
    assert np.all(np.abs(nav_returns(np.array(navs), 100_000.0)) > 0)


def test_fifo_round_trips_include_fees(bars: Callable[..., DayBars], universe_of: UniverseOf) -> None:
    ledger = Ledger(1, 100_000.0)
    _run(
        [
            (date(2024, 6, 3), 1_000, bars(open=10.0)),  # cost 10,005.10
            (
                date(2024, 6, 4),
                500,
                bars(open=11.0, high=11.2, low=10.8, pre_close=10.5),
            ),  # 5,500 + 5.00 + 0.06 = 5,505.06
            (
                date(2024, 6, 5),
                -1_200,
                bars(open=12.0, high=12.1, low=11.8, pre_close=11.0),
            ),  # 14,400 − 5.00 − 7.20 − 0.14 = 14,387.66
            (date(2024, 6, 6), -300, bars(open=9.0, high=9.2, low=8.8, pre_close=9.5)),
        ],  # 2,700 − 5.00 − 1.35 − 0.03 = 2,693.62
        universe_of(["600000.SH"]),
        ledger,
    )
    trips = ledger.lots.round_trips
    assert [t.qty for t in trips] == [1_000, 200, 300]
    expected = [
        14_387.66 * 1_000 / 1_200 - 10_005.10,
        14_387.66 * 200 / 1_200 - 5_505.06 * 200 / 500,
        2_693.62 - 5_505.06 * 300 / 500,
    ]
    assert [t.pnl for t in trips] == pytest.approx(expected, abs=1e-9)
    assert sum(t.pnl for t in trips) == pytest.approx(ledger.cash - 100_000.0, abs=1e-9)
    stats = trade_stats(np.array([t.pnl for t in trips]))
    assert (stats.closed, stats.win_rate) == (3, pytest.approx(2 / 3))
    assert stats.profit_loss_ratio == pytest.approx((expected[0] + expected[1]) / 2 / -expected[2])


def test_average_cost_and_bonus_shares_in_the_lots() -> None:
    ledger = Ledger(1, 0.0)
    ledger.lots.buy(0, date(2024, 1, 2), 1_000, 10_005.10)
    ledger.lots.buy(0, date(2024, 2, 1), 500, 5_505.06)
    ledger.qty[0] = 1_500
    assert ledger.avg_cost[0] == pytest.approx((10_005.10 + 5_505.06) / 1_500)
    ledger.add_bonus(0, 450, listing=date(2024, 3, 2))  # 10 转 3
    assert [lot.qty for lot in ledger.lots.lots[0]] == [1_300, 650]
    assert ledger.avg_cost[0] == pytest.approx((10_005.10 + 5_505.06) / 1_950)
    ledger.open_day(date(2024, 3, 1))
    assert ledger.sellable[0] == 1_500
    ledger.open_day(date(2024, 3, 4))
    assert ledger.sellable[0] == 1_950


@pytest.mark.parametrize(
    ("acquired", "sold", "rate"),
    [
        (date(2024, 1, 15), date(2024, 2, 15), 0.20),  # ≤ 1 month
        (date(2024, 1, 15), date(2024, 2, 16), 0.10),
        (date(2024, 1, 15), date(2025, 1, 15), 0.10),  # ≤ 1 year
        (date(2024, 1, 15), date(2025, 1, 16), 0.00),  # > 1 year, exempt since 2015-09-08
        (date(2013, 1, 31), date(2014, 6, 3), 0.05),  # > 1 year under 财税[2012]85号
        (date(2024, 1, 31), date(2024, 2, 29), 0.20),  # month end clamps
    ],
)
def test_dividend_tax_rate_by_holding_period(acquired: date, sold: date, rate: float) -> None:
    assert holding_rate(rules_on(sold).dividend_tax, acquired, sold) == rate


def test_dividend_tax_falls_on_the_lots_sold_first() -> None:
    book = LotBook()
    book.buy(0, date(2023, 1, 3), 1_000, 10_000.0)
    book.buy(0, date(2024, 5, 6), 1_000, 10_000.0)
    book.entitle(0, 0.5, withheld_rate=0.0, taxable_on_sale=True)  # 500 + 500 taxable
    tax = rules_on(date(2024, 5, 20)).dividend_tax
    # 1,500 sold on 2024-05-20: the 2023 lot (> 1 year, 0%) then 500 of the 2024 lot (≤ 1 month, 20% × 250).
    assert book.sell(0, date(2024, 5, 20), 1_500, 15_000.0, tax) == pytest.approx(50.0)
    assert add_months(date(2024, 12, 31), 2) == date(2025, 2, 28)


def test_bonus_listing_defaults_to_the_next_trading_day() -> None:
    days = [date(2024, 6, 6), date(2024, 6, 7), date(2024, 6, 11)]
    assert default_listing_date(date(2024, 6, 7), days) == date(2024, 6, 11)
    with pytest.raises(ValueError, match="no trading day"):
        default_listing_date(date(2024, 6, 11), days)


def test_adj_factor_carry_on_601398_ex_rights_2023_07_17() -> None:
    """Real anchor: close 4.87 on 07-14, pre_close 4.57 on 07-17, adj_factor 2.106013 → 2.245984."""
    daily = pd.read_csv(SHARED_DATA / "a_share" / "daily.csv", dtype={"trade_date": str})
    adj = pd.read_csv(SHARED_DATA / "a_share" / "adj_factor.csv", dtype={"trade_date": str})
    rows = (
        daily.merge(adj, on=["ts_code", "trade_date"]).query("ts_code == '601398.SH'").set_index("trade_date")
    )
    before, ex_day = rows.loc["20230714"], rows.loc["20230717"]
    ledger = Ledger(1, 0.0)
    ledger.qty[0] = 1_000
    ledger.close_day(date(2023, 7, 14), np.array([before["close"]]), np.array([True]))
    nav_before = ledger.cash + ledger.market_value().sum()
    credited = carry_by_adj_factor(ledger, np.array([ex_day["adj_factor"] / before["adj_factor"]]))
    # 1,000 × 4.87 × (1 − 2.106013 / 2.245984) = 303.50 credited; last price 4.87 × 2.106013 / 2.245984 ≈ 4.5665.
    assert credited == round(1_000 * 4.87 * (1 - 2.106013 / 2.245984), 2) == 303.50
    assert ledger.last_price[0] == pytest.approx(ex_day["pre_close"], abs=0.005)
    assert ledger.cash + ledger.market_value().sum() == pytest.approx(nav_before, abs=0.005)
    assert carry_by_adj_factor(ledger, np.array([1.0])) == 0.0
