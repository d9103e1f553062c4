"""The vectorised engine: targets instead of callbacks. A target-weights panel (or a factor panel and a top-N rule)
on a rebalance calendar; each rebalance day's close turns the targets into orders with the same conversion the
event-driven engine uses, and the same rules core fills them on the next bar."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, FloatArray
from zquant_backtest.domain.fingerprint import fingerprint
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.selection import UniverseSelection
from zquant_backtest.domain.simulation import BacktestResult, RunSettings, Simulation
from zquant_backtest.domain.targets import target_weight_orders

VECTOR_STRATEGY = "vectorised-target-weights"
"""The fingerprint's strategy hash: the strategy is the weights panel, hashed with the inputs."""


@dataclass
class VectorEngine:
    panel: MarketPanel
    settings: RunSettings = field(default_factory=RunSettings)
    selection: UniverseSelection = field(default_factory=UniverseSelection)

    def eligible(self) -> BoolArray:
        """The universe of every day (dates × codes)."""
        static = self.selection.static_mask(self.panel)
        return np.array([self.selection.eligible(self.panel, t, static) for t in range(len(self.panel.days))])

    def run_weights(self, weights: FloatArray, rebalance: BoolArray) -> BacktestResult:
        """``weights`` (dates × codes, NaN = 0) are read on the days ``rebalance`` marks; weights of codes outside
        the day's universe are set to 0, so held ones are sold."""
        panel = self.panel
        if weights.shape != panel.shape or rebalance.shape != panel.shape[:1]:
            raise ValueError("weights need the panel's shape and rebalance one flag per date")
        eligible = self.eligible()
        simulation = Simulation(panel, self.settings)
        orders = np.zeros(len(panel.codes), dtype=np.int64)
        for t in range(len(panel.days)):
            simulation.step(t, orders)
            if rebalance[t]:
                state = simulation.state()
                targets = np.where(eligible[t], weights[t], 0.0)
                orders = target_weight_orders(targets, state.total_value, state.price, state.qty)
            elif orders.any():
                orders = np.zeros(len(panel.codes), dtype=np.int64)
        extra = {"weights": weights, "rebalance": rebalance}
        digest = fingerprint(panel, VECTOR_STRATEGY, {}, (self.settings, self.selection), extra)
        return simulation.finish(orders, digest)

    def run_top_n(
        self, factor: FloatArray, top: int, rebalance: BoolArray, invested: float = 1.0
    ) -> BacktestResult:
        """Equal weights ``invested / top`` on the ``top`` highest factor values among the day's universe."""
        return self.run_weights(top_n_weights(factor, self.eligible(), top, rebalance, invested), rebalance)


def top_n_weights(
    factor: FloatArray, eligible: BoolArray, top: int, rebalance: BoolArray, invested: float = 1.0
) -> FloatArray:
    """Rows not marked by ``rebalance`` stay NaN; ties are broken by column order (stable)."""
    weights = np.full(factor.shape, np.nan)
    for t in np.flatnonzero(rebalance).tolist():
        score = np.where(eligible[t] & np.isfinite(factor[t]), factor[t], -np.inf)
        ranked = np.argsort(-score, kind="stable")[:top]
        chosen = ranked[np.isfinite(score[ranked])]
        weights[t] = 0.0
        weights[t, chosen] = invested / top
    return weights
