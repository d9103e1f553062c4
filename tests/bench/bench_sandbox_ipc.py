"""Per-day IPC cost of the backtest sandbox for 500 codes (issue 11 target: 80-140 us/day for 6 fields).

SandboxStrategyPort.decide with an empty handle_bar, one new row per day of every bar field the port sends
(8: open ... amount, pre_close, adj_factor) plus qty, sellable and the eligible mask, each way through the
validated msgpack reply. Reference in the same run: InProcessStrategy with the same empty handle_bar over the
same views, so the ratio isolates what the process boundary costs. Wall time depends on how busy the machine
is (each day is two wake-ups across processes), so the CPU time both processes spent per day is printed too:
the child's handle_bar reads its own process CPU clock on the first and the last measured day and hands the
difference back as an order amount.
"""

from __future__ import annotations

import os
import time

import numpy as np

from zquant_backtest.adapters.in_process_strategy import InProcessStrategy
from zquant_backtest.adapters.sandbox.launcher import probe_layers
from zquant_backtest.adapters.sandbox.limits import SandboxLimits
from zquant_backtest.adapters.sandbox.strategy import FIELDS, SandboxStrategyPort
from zquant_backtest.application.run_ports import StrategyCode
from zquant_backtest.application.strategy_api import Bars, Context, Strategy
from zquant_backtest.application.strategy_port import (
    DayView,
    Phase,
    PortfolioSnapshot,
    StrategyPort,
    StrategySetup,
)
from zquant_backtest.domain.market import PRICE_FIELDS, MarketPanel
from zquant_backtest.domain.window import MarketWindow

N_CODES, DAYS, WARMUP = 500, 2000, 50
CODE = """import time
def handle_bar(context, bars):
    if context.current_dt == {first!r}:
        context.cpu = time.process_time()
    if context.current_dt == {last!r}:
        order_shares(context.universe[0], (time.process_time() - context.cpu) * 1e6)
"""


class Empty(Strategy):
    def handle_bar(self, context: Context, bars: Bars) -> None:
        pass


def _panel() -> MarketPanel:
    rng = np.random.default_rng(11)
    shape = (WARMUP + DAYS, N_CODES)
    dates = np.busday_offset(np.datetime64("2014-01-02"), np.arange(shape[0]), roll="forward").astype("datetime64[D]")
    return MarketPanel(
        dates=dates, codes=tuple(f"{i:06d}.SZ" for i in range(N_CODES)),
        **{name: rng.uniform(5.0, 50.0, size=shape) for name in PRICE_FIELDS},
        up_limit=np.full(shape, np.nan), down_limit=np.full(shape, np.nan), is_st=np.zeros(shape, bool),
        is_suspended=np.zeros(shape, bool), list_days=np.full(shape, 1000, np.int64),
    )


def _views(panel: MarketPanel) -> list[DayView]:
    held = np.zeros(N_CODES, dtype=np.int64)
    folio = PortfolioSnapshot(1e6, 1e6, held, held, np.full(N_CODES, 10.0), lambda: np.zeros(N_CODES))
    eligible = np.ones(N_CODES, dtype=bool)
    return [DayView(Phase.HANDLE_BAR, t, panel.days[t], panel.codes, MarketWindow(panel, t + 1), folio, eligible,
                    lambda name: np.zeros(N_CODES)) for t in range(len(panel.days))]


def _us_per_day(port: StrategyPort, panel: MarketPanel, views: list[DayView]) -> tuple[float, float]:
    """(wall, CPU of both processes) µs per measured day."""
    port.initialize(StrategySetup(panel.codes, {}, panel.days[0], panel.days[-1]))
    for view in views[:WARMUP]:
        port.decide(view)
    cpu, start = time.process_time(), time.perf_counter()
    child_cpu_us = 0.0
    for view in views[WARMUP:]:
        child_cpu_us += sum(order.amount for order in port.decide(view))
    wall, parent_cpu_us = time.perf_counter() - start, (time.process_time() - cpu) * 1e6
    return wall / DAYS * 1e6, (parent_cpu_us + child_cpu_us) / DAYS


def main() -> None:
    layers = probe_layers()
    panel = _panel()
    views = _views(panel)
    code = CODE.format(first=panel.days[WARMUP].isoformat(), last=panel.days[-1].isoformat())
    port = SandboxStrategyPort(StrategyCode(code, {}), SandboxLimits(static_check=False))  # `time` is not allowed
    try:
        sandboxed, cpu_per_day = _us_per_day(port, panel, views)
    finally:
        port.close()
    in_process, _ = _us_per_day(InProcessStrategy(Empty()), panel, views)
    print(f"sandbox layers: {', '.join(layers.layers)} (landlock ABI {layers.landlock_abi}); "
          f"1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"sandbox IPC per day, {N_CODES} codes x {len(FIELDS)} fields + 3 portfolio vectors: {sandboxed:.1f} us "
          f"wall, {cpu_per_day:.1f} us CPU of both processes (target 80-140 us for 6 fields; "
          f"{sandboxed * 2500 / 1e6:.2f} s wall per 2,500-day run)")
    print(f"in-process port with the same empty handle_bar: {in_process:.2f} us; ratio sandbox/in-process "
          f"{sandboxed / in_process:.0f}x, overhead {sandboxed - in_process:.1f} us/day")


if __name__ == "__main__":
    main()
