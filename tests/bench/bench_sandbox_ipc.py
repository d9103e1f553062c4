"""Per-day IPC cost of the backtest sandbox for 500 codes x 6 fields (issue 11 target: 80-140 us/day).

Reference in the same run: the same empty handle_bar called in-process with the same arrays, so the
ratio isolates what the process boundary (msgpack header + raw float64 buffers + validated reply) costs.
"""

from __future__ import annotations

import asyncio
import os
import time

import numpy as np

from zquant_backtest.adapters.sandbox.launcher import sandbox_info
from zquant_backtest.adapters.sandbox.messages import PortfolioView
from zquant_backtest.adapters.sandbox.strategy import SandboxStrategy

N_CODES, FIELDS, DAYS, WARMUP = 500, ["open", "high", "low", "close", "volume", "amount"], 2000, 50
CODE = "def handle_bar(context, bars):\n    pass\n"


def _days() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [rng.uniform(5.0, 50.0, size=(N_CODES, len(FIELDS))) for _ in range(64)]


async def _sandbox_us_per_day(days: list[np.ndarray]) -> float:
    strategy = SandboxStrategy()
    await strategy.start(CODE, {}, [f"{i:06d}.SZ" for i in range(N_CODES)], FIELDS)
    folio = PortfolioView(1e6, np.zeros(N_CODES))
    try:
        for d in range(WARMUP):
            await strategy.on_day("2024-01-02", days[d % len(days)], folio)
        start = time.perf_counter()
        for d in range(DAYS):
            await strategy.on_day("2024-01-02", days[d % len(days)], folio)
        return (time.perf_counter() - start) / DAYS * 1e6
    finally:
        await strategy.close()


def _in_process_us_per_day(days: list[np.ndarray]) -> float:
    namespace: dict[str, object] = {}
    exec(CODE, namespace)
    handle_bar = namespace["handle_bar"]
    assert callable(handle_bar)
    start = time.perf_counter()
    for d in range(DAYS):
        handle_bar(None, days[d % len(days)])
    return (time.perf_counter() - start) / DAYS * 1e6


def main() -> None:
    info = sandbox_info()
    days = _days()
    sandboxed = asyncio.run(_sandbox_us_per_day(days))
    in_process = _in_process_us_per_day(days)
    print(f"sandbox layers: {', '.join(info.layers)} (landlock ABI {info.landlock_abi}); "
          f"1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"sandbox IPC per day, {N_CODES} codes x {len(FIELDS)} fields: {sandboxed:.1f} us "
          f"(target 80-140 us; {sandboxed * 2500 / 1e6:.2f} s per 2,500-day run)")
    print(f"in-process call of the same handle_bar: {in_process:.2f} us; ratio sandbox/in-process "
          f"{sandboxed / in_process:.0f}x, overhead {sandboxed - in_process:.1f} us/day")


if __name__ == "__main__":
    main()
