"""The event-driven engine on small hand-made panels: decided on t, filled on t + 1 at the chosen price; nothing
of t + 1 visible on t; the context's portfolio, history, factor, params and order functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import pytest

from zquant_backtest.adapters.in_process_strategy import InProcessStrategy
from zquant_backtest.application.event_engine import EventEngine
from zquant_backtest.application.strategy_api import Bars, Context, Strategy
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.orders import FillSettings, Reason, Timing
from zquant_backtest.domain.params import InvalidParams, Param
from zquant_backtest.domain.selection import UniverseSelection
from zquant_backtest.domain.simulation import BacktestResult, RunSettings

pytestmark = pytest.mark.unit

PanelFactory = Callable[..., MarketPanel]

CODES = ("600000.SH", "000001.SZ")


class Scripted(Strategy):
    """Runs ``script[day](context, bars)`` at each close and keeps what it saw."""

    def __init__(self, script: dict[int, object]) -> None:
        self.script, self.day, self.seen = script, 0, []

    def handle_bar(self, context: Context, bars: Bars) -> None:
        action = self.script.get(self.day)
        if callable(action):
            self.seen.append(action(context, bars))
        self.day += 1


def _run(panel: object, script: dict[int, object], **engine: object) -> tuple[BacktestResult, Scripted]:
    strategy = Scripted(script)
    result = EventEngine(panel, InProcessStrategy(strategy), **engine).run()  # type: ignore[arg-type]
    return result, strategy


def _rising(panel_of: PanelFactory, days: int = 4) -> object:
    """Open 10, 11, 12, …; close = open + 0.5."""
    opens = 10.0 + np.arange(days)[:, None] * np.ones((1, len(CODES)))
    return panel_of(
        CODES,
        days,
        open=opens,
        close=opens + 0.5,
        high=opens + 0.6,
        low=opens - 0.1,
        pre_close=np.vstack([opens[:1], opens[:-1] + 0.5]),
    )


@pytest.mark.parametrize(
    ("timing", "price"), [(Timing.OPEN, 11.0), (Timing.CLOSE, 11.5), (Timing.VWAP, 10.0)]
)
def test_an_order_of_day_t_fills_on_day_t_plus_one(
    panel_of: PanelFactory, timing: Timing, price: float
) -> None:
    panel = _rising(panel_of)
    settings = RunSettings(fills=FillSettings(timing=timing))
    result, _ = _run(panel, {0: lambda c, b: c.order_shares("600000.SH", 1_000)}, settings=settings)
    assert result.fills.day.tolist() == [1] and result.fills.qty.tolist() == [1_000]
    assert result.fills.price[0] == pytest.approx(price)  # VWAP: amount 1,000 千元 / 1,000 手 = 10.00
    assert result.equity.nav[0] == 1_000_000.0


def test_a_strategy_cannot_see_tomorrow(panel_of: PanelFactory) -> None:
    panel = _rising(panel_of, days=3)

    def peek(context: Context, bars: Bars) -> object:
        closes, today = context.history(None, "close", 10), bars.close
        assert not np.shares_memory(closes, panel.close) and not np.shares_memory(today, panel.close)
        today[:] = 0.0  # writing into what the strategy was given does not touch the panel
        return closes.shape[0], float(closes[-1, 0]), float(closes.max()), context.now

    _, strategy = _run(panel, dict.fromkeys(range(3), peek))
    assert [seen[:3] for seen in strategy.seen] == [(1, 10.5, 10.5), (2, 11.5, 11.5), (3, 12.5, 12.5)]
    assert panel.close[:, 0].tolist() == [10.5, 11.5, 12.5]
    assert strategy.seen[1][3] == date(2024, 1, 3)


def test_before_trading_sees_yesterday_and_may_cancel(panel_of: PanelFactory) -> None:
    panel = _rising(panel_of, days=3)
    seen: list[tuple[int, int]] = []

    class CancelsAtTheOpen(Strategy):
        def initialize(self, context: Context) -> None:
            self.order = 0

        def before_trading(self, context: Context) -> None:
            seen.append((context.history("600000.SH", "close", 5).size, self.order))
            if self.order:
                context.cancel_order(self.order)

        def handle_bar(self, context: Context, bars: Bars) -> None:
            if not self.order:
                self.order = context.order_shares("600000.SH", 500)
                context.order_shares("000001.SZ", 500)

    result = EventEngine(panel, InProcessStrategy(CancelsAtTheOpen())).run()
    assert seen[0] == (0, 0) and seen[1] == (1, 1)
    assert result.fills.code.tolist() == [1]  # only the order not cancelled


def test_the_portfolio_follows_t_plus_one(panel_of: PanelFactory) -> None:
    panel = _rising(panel_of)

    def look(context: Context, bars: Bars) -> object:
        portfolio = context.portfolio
        return portfolio.cash, portfolio.total_value, portfolio.positions

    script = {0: lambda c, b: c.order_value("600000.SH", 20_000), 1: look, 2: look}
    result, strategy = _run(panel, script)
    cash, total, positions = strategy.seen[1]
    cost = 1_900 * 11.0 + 5.23 + 0.21  # 20,000 / 10.50 → 1,900 at 11.00; 0.025% commission, 0.001% transfer
    assert cash == pytest.approx(1_000_000 - cost, abs=1e-9)
    position = positions["600000.SH"]
    assert (position.total_qty, position.sellable_qty) == (1_900, 0)  # bought today: not sellable
    assert position.avg_cost == pytest.approx(cost / 1_900)
    assert position.market_value == pytest.approx(1_900 * 11.5) and total == pytest.approx(
        cash + 1_900 * 11.5
    )
    assert strategy.seen[2][2]["600000.SH"].sellable_qty == 1_900
    assert result.equity.market_value.tolist() == [0.0, 1_900 * 11.5, 1_900 * 12.5, 1_900 * 13.5]


def test_every_order_function(panel_of: PanelFactory) -> None:
    panel = _rising(panel_of, days=5)
    script = {
        0: lambda c, b: c.order_target_percent("600000.SH", 0.01),  # 10,000 / 10.5 → 952 → lot 900
        1: lambda c, b: c.order_target_shares("600000.SH", 400),  # sell 500
        2: lambda c, b: c.order_target_value("600000.SH", 12.5 * 1_000),  # +600
        3: lambda c, b: c.order_target_weights({"000001.SZ": 0.001}),  # sell all 1,000; buy 79 → lot 0
    }
    result, _ = _run(panel, script)
    assert result.fills.qty.tolist() == [900, -500, 600, -1_000]
    refused = result.refusals
    assert (refused.day[-1], refused.code[-1], refused.reason[-1]) == (4, 1, Reason.LOT_SIZE)


def test_buys_outside_the_universe_are_refused_and_recorded(panel_of: PanelFactory) -> None:
    panel = panel_of(CODES, 3, is_st=np.array([False, True]))
    script = {
        0: lambda c, b: (c.universe, c.order_shares("000001.SZ", 100), c.order_shares("600000.SH", 100))
    }
    result, strategy = _run(panel, script, selection=UniverseSelection(exclude_st=True))
    assert strategy.seen[0][0] == ["600000.SH"]
    assert result.fills.code.tolist() == [0]
    assert (result.refusals.day.tolist(), result.refusals.reason.tolist()) == ([0], [Reason.NOT_IN_UNIVERSE])


class FakeFactors:
    def __init__(self) -> None:
        self.asked: list[tuple[str, date, Sequence[str]]] = []

    def values(self, name: str, on: date, codes: Sequence[str]) -> np.ndarray:
        self.asked.append((name, on, codes))
        return np.arange(len(codes), dtype=np.float64) + on.day


def test_factor_values_come_from_the_port_as_of_today(panel_of: PanelFactory) -> None:
    factors = FakeFactors()
    _, strategy = _run(
        panel_of(CODES, 2), {1: lambda c, b: c.factor("momentum")["000001.SZ"]}, factors=factors
    )
    assert strategy.seen == [1 + 3] and factors.asked == [("momentum", date(2024, 1, 3), CODES)]


class WithParams(Strategy):
    params_schema = (
        Param("window", int, 20, minimum=2, maximum=250),
        Param("ratio", float, 0.5, maximum=1.0),
    )

    def handle_bar(self, context: Context, bars: Bars) -> None:
        self.params = context.params


def test_params_are_validated_against_the_schema(panel_of: PanelFactory) -> None:
    strategy = WithParams()
    EventEngine(panel_of(CODES, 1), InProcessStrategy(strategy)).run({"ratio": 1})
    assert strategy.params == {"window": 20, "ratio": 1.0}
    for bad in ({"windw": 5}, {"window": 1}, {"window": 2.5}, {"ratio": 1.5}, {"window": True}):
        with pytest.raises(InvalidParams):
            EventEngine(panel_of(CODES, 1), InProcessStrategy(WithParams())).run(bad)


def test_unfilled_orders_of_the_last_day_are_reported(panel_of: PanelFactory) -> None:
    result, _ = _run(panel_of(CODES, 2), {1: lambda c, b: c.order_shares("000001.SZ", 300)})
    assert result.unfilled_at_end.tolist() == [0, 300] and result.fills.qty.size == 0
