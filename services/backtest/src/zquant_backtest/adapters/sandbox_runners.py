"""The worker's strategy factories over the sandbox: module-level, so the pool pickles them by reference.

`SandboxStrategyPort` is the event engine's port as it is; the vectorised engine's `TargetsPort` is the sandbox's
`SandboxTargets` given each declared factor as a dates × codes panel read from the run's factor source (the value on
day t was computed from data up to t; the vector engine trades day t's targets on day t + 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from zquant_backtest.adapters.sandbox.strategy import SandboxStrategyPort
from zquant_backtest.adapters.sandbox.targets import SandboxTargets
from zquant_backtest.adapters.worker_run import TargetsPort
from zquant_backtest.application.run_ports import RunFailed, StrategyCode
from zquant_backtest.application.strategy_port import FactorSource
from zquant_backtest.domain.arrays import BoolArray, FloatArray
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.params import Param


def sandbox_strategy(code: StrategyCode) -> SandboxStrategyPort:
    return SandboxStrategyPort(code)


class SandboxTargetsPort(TargetsPort):
    def __init__(self, code: StrategyCode) -> None:
        self._targets = SandboxTargets(code)

    @property
    def params_schema(self) -> Sequence[Param]:
        return self._targets.params_schema

    def targets(
        self, panel: MarketPanel, params: Mapping[str, object], factors: FactorSource | None
    ) -> tuple[FloatArray, BoolArray]:
        panels: dict[str, FloatArray] = {}
        for name in self._targets.factors:
            if factors is None:
                raise RunFailed(f"the strategy reads factor {name!r} but this run has no factor service")
            panels[name] = np.vstack([factors.values(name, day, panel.codes) for day in panel.days])
        found = self._targets.weights(panel, panels, params)
        return found.weights, found.rebalance


def sandbox_targets(code: StrategyCode) -> SandboxTargetsPort:
    return SandboxTargetsPort(code)
