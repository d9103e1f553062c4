"""Run executors for tests: a deterministic one (same spec, same result, to the bit) and a slow one whose
pace a test controls, standing in for the real executor (panel, sandbox, engine)."""

from __future__ import annotations

import asyncio
import hashlib
import json

import numpy as np

from zquant_backtest.application.run_config_json import config_to_json
from zquant_backtest.application.run_ports import RunExecutor, RunFailed, RunProgress, RunSpec
from zquant_backtest.domain.performance import Activity, summarise
from zquant_backtest.domain.record import EquityCurve, FillRows, PositionRows, RefusalRows
from zquant_backtest.domain.rules import RULES_VERSION
from zquant_backtest.domain.simulation import BacktestResult

FAIL_MARKER = "# fail-run"
"""Code containing this makes the deterministic executor raise RunFailed, as a strategy error would."""


def spec_fingerprint(spec: RunSpec) -> str:
    inputs = {"code": spec.strategy.source, "config": config_to_json(spec.config), "data": spec.data_version}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def deterministic_result(spec: RunSpec) -> BacktestResult:
    """Business days of the range, a NAV walk seeded by the fingerprint, two fills, one refusal."""
    fingerprint = spec_fingerprint(spec)
    config = spec.config
    dates = np.arange(np.datetime64(config.start, "D"), np.datetime64(config.end, "D") + 1)
    dates = dates[np.is_busday(dates)]
    rng = np.random.default_rng(int(fingerprint[:12], 16))
    nav = config.initial_cash * np.cumprod(1.0 + rng.normal(0.0005, 0.01, dates.size))
    codes = config.codes or ("600000.SH",)
    one = np.array([0, min(1, dates.size - 1)], dtype=np.int64)
    zero = np.zeros(2, dtype=np.int64)
    prices = np.array([10.0, 10.5])
    fills = FillRows(
        qty=np.array([100, -100], dtype=np.int64), price=prices, base_price=prices, commission=np.full(2, 5.0),
        stamp_duty=np.array([0.0, 0.5]), transfer_fee=np.full(2, 0.01), slippage=np.zeros(2), day=one, code=zero,
    )  # fmt: skip
    refusals = RefusalRows(
        day=one[:1], code=zero[:1], reason=np.array([4], dtype=np.int64), requested=np.array([150], dtype=np.int64),
        remaining=np.array([100], dtype=np.int64),
    )  # fmt: skip
    positions = PositionRows(day=one[:1], code=zero[:1], qty=np.array([100], dtype=np.int64))
    equity = EquityCurve(nav=nav, cash=nav * 0.5, market_value=nav * 0.5, benchmark_nav=None)
    activity = Activity(traded_value=2050.0, total_costs=10.52, round_trip_pnl=np.array([39.48]))
    return BacktestResult(
        dates=dates, codes=tuple(codes), equity=equity, fills=fills, refusals=refusals, positions=positions,
        unfilled_at_end=np.zeros(len(codes), dtype=np.int64),
        performance=summarise(dates, nav, config.initial_cash, activity),
        rules_version=RULES_VERSION, fingerprint=fingerprint,
    )  # fmt: skip


class DeterministicExecutor(RunExecutor):
    def __init__(self) -> None:
        self.runs: list[str] = []

    async def execute(self, spec: RunSpec, progress: RunProgress) -> BacktestResult:
        self.runs.append(spec.task_id)
        if FAIL_MARKER in spec.strategy.source:
            raise RunFailed("strategy raised ZeroDivisionError at line 3")
        await progress.report(50.0, spec.config.start)
        return deterministic_result(spec)


class SlowExecutor(RunExecutor):
    """Reports progress every `step` seconds for `steps` steps, then answers the deterministic result."""

    def __init__(self, steps: int = 20, step: float = 0.1) -> None:
        self.steps = steps
        self.step = step
        self.started = asyncio.Event()

    async def execute(self, spec: RunSpec, progress: RunProgress) -> BacktestResult:
        self.started.set()
        for index in range(self.steps):
            await progress.report(100.0 * index / self.steps, spec.config.start)
            await asyncio.sleep(self.step)
        return deterministic_result(spec)
