"""The engines' inputs: the market panel's checks, universe selection by date (index members without survivorship
bias, boards, industries, listing age, ST), rebalance calendars, the order book and the target conversion."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from zquant_backtest.application.vector_engine import VectorEngine, top_n_weights
from zquant_backtest.domain.boards import Board
from zquant_backtest.domain.calendar import every_n_days, period_starts
from zquant_backtest.domain.corporate_actions import Dividend
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.order_book import OrderBook, OrderKind, OrderRequest, PortfolioState
from zquant_backtest.domain.orders import Reason
from zquant_backtest.domain.selection import UniverseSelection
from zquant_backtest.domain.targets import shares_for_one, shares_for_value, target_weight_orders

pytestmark = pytest.mark.unit

PanelFactory = Callable[..., MarketPanel]
CODES = ("600000.SH", "000001.SZ", "300750.SZ", "688981.SH")


def test_the_panel_checks_its_shapes_and_dates(panel_of: PanelFactory) -> None:
    with pytest.raises(ValueError, match="close has shape"):
        dataclasses.replace(panel_of(CODES, 3), close=np.ones((2, 4)))
    panel = panel_of(
        CODES,
        3,
        is_suspended=np.array([False, True, False, False]),
        adj_factor=np.array([[1.0] * 4, [1.0, 1.0, 1.1, 1.0], [1.0, 1.0, 1.1, np.nan]]),
    )
    bars = panel.day(1)
    assert bars.has_bar.tolist() == [True, False, True, True] and bars.volume[1] == 0.0
    assert panel.adj_ratio(1) == pytest.approx([1.0, 1.0, 1.1, 1.0])
    assert panel.adj_ratio(2) is None and panel.adj_ratio(0) is None  # no ex-rights move: nothing to carry
    assert panel.column("300750.SZ") == 2
    with pytest.raises(KeyError):
        panel.column("600001.SH")


def test_index_members_as_of_each_date(panel_of: PanelFactory) -> None:
    """A code that left the index stays eligible on the days it was in: no survivorship bias."""
    members = np.array([[True, True, False, False], [True, False, True, False], [True, False, True, False]])
    panel = panel_of(CODES, 3, members=members)
    engine = VectorEngine(panel, selection=UniverseSelection(index_members=True))
    assert np.array_equal(engine.eligible(), members)
    factor = np.tile(np.array([1.0, 4.0, 3.0, 2.0]), (3, 1))
    weights = top_n_weights(factor, engine.eligible(), 1, np.array([True, True, False]))
    assert weights[0].tolist() == [0, 1, 0, 0] and weights[1].tolist() == [0, 0, 1, 0]
    assert np.isnan(weights[2]).all()


def test_filters_by_board_industry_listing_age_and_st(panel_of: PanelFactory) -> None:
    panel = panel_of(
        CODES,
        2,
        industries=("银行", "银行", "电池", "半导体"),
        is_st=np.array([[False, True, False, False]] * 2),
        list_days=np.array([[1_000, 1_000, 1_000, 3], [1_000, 1_000, 1_000, 4]]),
    )
    chosen = UniverseSelection(boards=[Board.MAIN, Board.STAR], min_list_days=4, exclude_st=True)
    assert chosen.eligible(panel, 0).tolist() == [True, False, False, False]
    assert chosen.eligible(panel, 1).tolist() == [True, False, False, True]
    assert UniverseSelection(industries=["银行"]).eligible(panel, 0).tolist() == [True, True, False, False]
    assert UniverseSelection(codes=["688981.SH"]).eligible(panel, 1).tolist() == [False, False, False, True]
    with pytest.raises(ValueError, match="membership"):
        UniverseSelection(index_members=True).eligible(panel, 0)


def test_rebalance_calendars() -> None:
    dates = np.array(
        ["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-02-05", "2024-04-01"],
        dtype="datetime64[D]",
    )
    assert period_starts(dates, "M").tolist() == [True, False, True, False, False, True]
    assert period_starts(dates, "W").tolist() == [True, False, False, False, True, True]  # 02-05 is a Monday
    assert period_starts(dates, "Q").tolist() == [True, False, False, False, False, True]
    assert period_starts(dates, "Y").tolist() == [True, False, False, False, False, False]
    assert every_n_days(5, 2, offset=1).tolist() == [False, True, False, True, False]


def test_value_to_shares_truncates_and_skips_unknown_prices() -> None:
    value = np.array([10_000.0, -10_000.0, 10_000.0, 3.0 * 0.1 * 10])
    price = np.array([10.3, 10.3, np.nan, 0.1])
    assert shares_for_value(value, price).tolist() == [970, -970, 0, 30]
    assert [shares_for_one(v, p) for v, p in zip(value, price, strict=True)] == [970, -970, 0, 30]
    orders = target_weight_orders(np.array([0.0, 0.5, 0.5, np.nan]), 1_000.0, price, np.array([5, 0, 7, 9]))
    assert orders.tolist() == [-5, 48, 0, -9]  # no price: left alone unless its weight is 0


def _state(qty: list[int]) -> PortfolioState:
    return PortfolioState(
        qty=np.array(qty, dtype=np.int64), price=np.array([10.0, 20.0]), total_value=100_000.0
    )


def test_the_order_book_nets_cancels_and_resolves_at_placement() -> None:
    book = OrderBook(2, eligible=np.array([True, False]))
    book.place(
        [
            OrderRequest(1, OrderKind.SHARES, 0, 300),
            OrderRequest(2, OrderKind.TARGET_SHARES, 0, 1_000),  # 1,000 − (100 held + 300 planned)
            OrderRequest(3, OrderKind.VALUE, 1, -2_000),
            OrderRequest(4, OrderKind.TARGET_PERCENT, 1, 0.0),  # sell all 200 (−100 already planned)
            OrderRequest(5, OrderKind.SHARES, 1, 100),  # a buy outside the universe
            OrderRequest(6, OrderKind.CANCEL, cancels=3),
        ],
        _state([100, 200]),
    )
    assert sorted(book.pending) == [1, 2, 4] and book.refused == [(1, 100, Reason.NOT_IN_UNIVERSE)]
    assert book.take().tolist() == [900, -100]  # 3 cancelled after 4 was resolved against it
    assert book.take().tolist() == [0, 0] and not book.pending
    book.place([OrderRequest(7, OrderKind.TARGET_VALUE, 0, 5_000)], _state([100, 0]))
    assert book.take().tolist() == [400, 0]
    unpriced = PortfolioState(
        qty=np.zeros(2, dtype=np.int64), price=np.array([np.nan, 20.0]), total_value=1e5
    )
    book.place(
        [OrderRequest(8, OrderKind.VALUE, 0, 5_000), OrderRequest(9, OrderKind.SHARES, 0, 100)], unpriced
    )
    assert book.refused[-1] == (0, 0, Reason.NO_PRICE) and book.take().tolist() == [100, 0]
    with pytest.raises(ValueError, match="no code"):
        book.place([OrderRequest(8, OrderKind.SHARES, 5, 100)], _state([0, 0]))


def test_dividend_events_in_the_panel_reach_the_ledger(panel_of: PanelFactory) -> None:
    """Buy 1,000 (filled on day 1); 10 送 3 and 0.5 CNY cash a share: record day 2, ex and pay day 3."""
    days = panel_of(CODES[:1], 5).days
    event = Dividend(0, days[2], days[3], days[3], 0.5, 0.3, days[4])
    panel = dataclasses.replace(panel_of(CODES[:1], 5), dividends=(event,))
    weights = np.zeros(panel.shape)
    weights[0] = 0.00999
    result = VectorEngine(panel).run_weights(weights, np.array([True, False, False, False, False]))
    assert result.positions.qty.tolist() == [900, 900, 1_170, 1_170]  # 9,990 / 10.00 → 900 shares
    assert result.equity.cash[3] - result.equity.cash[2] == pytest.approx(450.0, abs=1e-9)
