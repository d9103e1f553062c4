"""On the four real banks: the event-driven engine and the vectorised engine, given the same monthly target
weights, produce the same fills, cash and NAV to the bit; a rerun is bit-identical, and the fingerprint follows
the inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zquant_backtest.adapters.in_process_strategy import InProcessStrategy
from zquant_backtest.application.event_engine import EventEngine
from zquant_backtest.application.strategy_api import Bars, Context, Strategy
from zquant_backtest.application.vector_engine import VectorEngine, top_n_weights
from zquant_backtest.domain.calendar import period_starts
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.orders import FillSettings
from zquant_backtest.domain.params import Param
from zquant_backtest.domain.simulation import BacktestResult, RunSettings

pytestmark = pytest.mark.unit

SETTINGS = RunSettings(initial_cash=1_000_000.0, fills=FillSettings(slippage_bps=5.0))


def _momentum_weights(panel: MarketPanel) -> tuple[np.ndarray, np.ndarray]:
    """Month starts: the two banks with the best 20-day return (hfq), 49% each."""
    hfq = panel.close * panel.adj_factor
    factor = np.full(hfq.shape, np.nan)
    factor[20:] = hfq[20:] / hfq[:-20] - 1.0
    rebalance = period_starts(panel.dates, "M")
    eligible = np.ones(panel.shape, dtype=bool)
    return top_n_weights(factor, eligible, 2, rebalance, invested=0.98), rebalance


class WeightsFollower(Strategy):
    """Plays a weights panel back through ``order_target_weights`` on the rebalance days."""

    params_schema = (Param("lag", int, 0, minimum=0, maximum=5),)

    def __init__(self, weights: np.ndarray, rebalance: np.ndarray) -> None:
        self.weights, self.rebalance, self.day = weights, rebalance, 0

    def initialize(self, context: Context) -> None:
        self.day = 0

    def handle_bar(self, context: Context, bars: Bars) -> None:
        if self.rebalance[self.day]:
            context.order_target_weights(dict(zip(context.codes, self.weights[self.day], strict=True)))
        self.day += 1


@pytest.fixture(scope="module")
def runs(bank_panel: MarketPanel) -> tuple[BacktestResult, BacktestResult]:
    weights, rebalance = _momentum_weights(bank_panel)
    event = EventEngine(bank_panel, InProcessStrategy(WeightsFollower(weights, rebalance)), SETTINGS).run()
    vector = VectorEngine(bank_panel, SETTINGS).run_weights(weights, rebalance)
    return event, vector


def _fields(result: BacktestResult) -> dict[str, bytes]:
    parts = {}
    for group in ("fills", "refusals", "positions", "equity"):
        for item in dataclasses.fields(getattr(result, group)):
            value = getattr(getattr(result, group), item.name)
            parts[f"{group}.{item.name}"] = b"" if value is None else np.ascontiguousarray(value).tobytes()
    return parts


def test_event_driven_and_vectorised_fill_the_same(runs: tuple[BacktestResult, BacktestResult]) -> None:
    event, vector = runs
    assert event.fills.qty.size > 100
    assert _fields(event) == _fields(vector)
    assert event.equity.nav[-1] == vector.equity.nav[-1]


def test_the_run_trades_through_the_rules(runs: tuple[BacktestResult, BacktestResult]) -> None:
    event, _ = runs
    fills = event.fills
    assert np.all(fills.qty % 100 == 0)  # main-board lots, positions never odd
    assert np.all(fills.commission >= 5.0)
    sells = fills.qty < 0
    assert np.all(fills.stamp_duty[sells] > 0) and np.all(fills.stamp_duty[~sells] == 0)
    assert np.all(fills.transfer_fee > 0)
    assert np.all(np.isclose(fills.price, fills.base_price * (1 + 5e-4 * np.sign(fills.qty)), atol=1e-9))
    rebalance_days = np.flatnonzero(period_starts(event.dates, "M"))
    assert set(np.unique(fills.day).tolist()) <= set((rebalance_days + 1).tolist())
    assert np.all(event.equity.cash >= 0)
    assert event.equity.nav == pytest.approx(event.equity.cash + event.equity.market_value, abs=1e-6)
    assert event.equity.benchmark_nav is not None and event.equity.benchmark_nav[0] == SETTINGS.initial_cash
    assert np.isfinite(event.performance.beta) and np.isfinite(event.performance.information_ratio)


def test_positions_are_stored_sparse_and_add_up(runs: tuple[BacktestResult, BacktestResult]) -> None:
    event, _ = runs
    positions, fills = event.positions, event.fills
    held = np.zeros((len(event.dates), len(event.codes)), dtype=np.int64)
    np.add.at(held, (fills.day, fills.code), fills.qty)
    held = np.cumsum(held, axis=0)
    dense = np.zeros_like(held)
    dense[positions.day, positions.code] = positions.qty
    assert np.array_equal(held, dense)  # no bonus shares without dividend data
    assert positions.qty.size < held.size


def test_a_rerun_is_bit_identical(
    bank_panel: MarketPanel, runs: tuple[BacktestResult, BacktestResult]
) -> None:
    weights, rebalance = _momentum_weights(bank_panel)
    again = EventEngine(bank_panel, InProcessStrategy(WeightsFollower(weights, rebalance)), SETTINGS).run()
    assert _fields(again) == _fields(runs[0])
    assert again.fingerprint == runs[0].fingerprint
    assert len(again.fingerprint) == 64 and again.rules_version == runs[0].performance.rules_version


def test_the_fingerprint_follows_params_data_and_settings(
    bank_panel: MarketPanel, runs: tuple[BacktestResult, BacktestResult]
) -> None:
    weights, rebalance = _momentum_weights(bank_panel)
    strategy = InProcessStrategy(WeightsFollower(weights, rebalance))
    other_params = EventEngine(bank_panel, strategy, SETTINGS).run({"lag": 1})
    other_settings = EventEngine(bank_panel, strategy, dataclasses.replace(SETTINGS, initial_cash=2e6)).run()
    close = bank_panel.close.copy()
    close[-1, 0] += 0.01
    other_data = EventEngine(dataclasses.replace(bank_panel, close=close), strategy, SETTINGS).run()
    prints = {
        runs[0].fingerprint,
        other_params.fingerprint,
        other_settings.fingerprint,
        other_data.fingerprint,
    }
    assert len(prints) == 4
    assert runs[1].fingerprint != runs[0].fingerprint  # another strategy
