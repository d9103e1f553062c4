"""The event-driven engine through the sandbox (issue 11): the same dual moving-average strategy (5/20, fixed
allocation per stock) on ZQUANT_BENCH_SANDBOX_STOCKS (500) × ZQUANT_BENCH_SANDBOX_DATES (2500) of the seeded
synthetic A-share market of bench_backtest_engines, (a) as a module source in the sandboxed child through
SandboxStrategyPort and (b) in process (InProcessStrategy over the equivalent class). Both must produce the same
fills; printed: both wall times, the sandbox's overhead per run and per day, the ratio, and the child's start
latency (spawn to ready) on its own.
"""

from __future__ import annotations

import os
import time

import numpy as np
from bench_backtest_engines import CASH, FAST, SETTINGS, SLOW, DualMovingAverage, synthetic_market

from zquant_backtest.adapters.in_process_strategy import InProcessStrategy
from zquant_backtest.adapters.sandbox.launcher import probe_layers
from zquant_backtest.adapters.sandbox.limits import SandboxLimits
from zquant_backtest.adapters.sandbox.strategy import SandboxStrategyPort
from zquant_backtest.application.event_engine import EventEngine
from zquant_backtest.application.run_ports import StrategyCode
from zquant_backtest.application.strategy_port import StrategySetup
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.simulation import BacktestResult

DATES = int(os.environ.get("ZQUANT_BENCH_SANDBOX_DATES", 2500))
STOCKS = int(os.environ.get("ZQUANT_BENCH_SANDBOX_STOCKS", 500))

DUAL_MA = '''
import numpy as np

def handle_bar(context, bars):
    fast, slow = context.params["fast"], context.params["slow"]
    # C order, as the in-process history: the means then round alike and ties cross on the same day
    closes = np.ascontiguousarray(history(context.universe, "close", slow + 1).to_numpy())
    if closes.shape[0] < slow + 1:
        return
    with np.errstate(invalid="ignore"):
        fast_now, slow_now = closes[-fast:].mean(0), closes[-slow:].mean(0)
        fast_then, slow_then = closes[-fast - 1:-1].mean(0), closes[-slow - 1:-1].mean(0)
        golden = (fast_now > slow_now) & (fast_then <= slow_then)
        death = (fast_now < slow_now) & (fast_then >= slow_then)
    held = context.portfolio.shares
    allocation = context.params["allocation"]
    for i in np.flatnonzero(golden & (held == 0)).tolist():
        order_value(context.universe[i], allocation)
    for i in np.flatnonzero(death & (held > 0)).tolist():
        order_target_shares(context.universe[i], 0)
'''
SCHEMA = {
    "fast": {"type": "int", "min": 2, "max": 60, "default": FAST},
    "slow": {"type": "int", "min": 5, "max": 250, "default": SLOW},
    "allocation": {"type": "float", "min": 0.0, "default": 0.0},
}


def timed_run(panel: MarketPanel, engine: EventEngine) -> tuple[float, BacktestResult]:
    started = time.perf_counter()
    result = engine.run({"allocation": CASH / len(panel.codes) * 0.95})
    return time.perf_counter() - started, result


def start_latency(panel: MarketPanel, zygote: bool, runs: int = 3) -> float:
    """Spawn to ready (imports unless forked from the zygote, lock-down, module load), best of ``runs``."""
    best = np.inf
    setup = StrategySetup(panel.codes, {"fast": FAST, "slow": SLOW, "allocation": 1.0}, panel.days[0], panel.days[-1])
    for _ in range(runs):
        port = SandboxStrategyPort(StrategyCode(DUAL_MA, SCHEMA), SandboxLimits(zygote=zygote))
        started = time.perf_counter()
        port.initialize(setup)
        best = min(best, time.perf_counter() - started)
        port.close()
    return best


def main() -> None:
    panel = synthetic_market(DATES, STOCKS)
    layers = probe_layers()
    start_latency(panel, zygote=True, runs=1)  # the worker's zygote is up before its first task
    port = SandboxStrategyPort(StrategyCode(DUAL_MA, SCHEMA))
    try:
        sandboxed, ours = timed_run(panel, EventEngine(panel, port, SETTINGS))
    finally:
        port.close()
    in_process, theirs = timed_run(panel, EventEngine(panel, InProcessStrategy(DualMovingAverage()), SETTINGS))
    same = np.array_equal(ours.fills.qty, theirs.fills.qty) and np.array_equal(ours.equity.nav, theirs.equity.nav)
    overhead = sandboxed - in_process
    print(f"sandbox layers: {', '.join(layers.layers)} (landlock ABI {layers.landlock_abi}); "
          f"1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"event engine, dual MA {FAST}/{SLOW}, {STOCKS} stocks × {DATES} days ({ours.fills.qty.size} fills, "
          f"same fills and NAV in both: {same}):")
    print(f"  in process (InProcessStrategy)        {in_process:7.2f} s")
    print(f"  sandboxed (SandboxStrategyPort)       {sandboxed:7.2f} s  = {sandboxed / in_process:.2f}× in process")
    print(f"  sandbox overhead {overhead:6.2f} s per run, {overhead / DATES * 1e6:6.0f} µs per day "
          f"(child start from the warm zygote included)")
    warm, fresh = start_latency(panel, zygote=True), start_latency(panel, zygote=False)
    print(f"  child start to ready, best of 3: forked from the zygote {warm * 1e3:6.1f} ms, fresh interpreter "
          f"{fresh * 1e3:6.1f} ms ({fresh / warm:.0f}× slower)")
    if not same:
        raise SystemExit("the sandboxed run differs from the in-process one")


if __name__ == "__main__":
    main()
