"""The indicator set (MACD, KDJ, RSI 6/12/24, BOLL, CCI) on a dates × stocks panel, next to TA-Lib per stock.

Targets (issue 9): wall time ≤ 0.5× TA-Lib called per stock in a loop on the same data (each stock's bars without
its suspended days, which is what TA-Lib needs to be correct), and peak memory ≤ 3× the input panel (high, low,
close). Memory is traced (tracemalloc) in a fresh subprocess while each indicator is computed and its outputs
handed on, one indicator's outputs alive at a time as a writer consumes them; the figure with every output kept
is printed next to it. Synthetic seeded random walks with 1% suspended days. Sizes: 2500 days × 5000 stocks (the
issue's "5000 stocks × 2500 days", a full market over ten years) and its transpose 5000 days × 2500 stocks (the
issue's panel read literally, dates × stocks); ZQUANT_BENCH_DATES × ZQUANT_BENCH_STOCKS runs one size instead.

The numba kernels are compiled before the timed rounds (a call on a small slice), so the ratio compares warm
code with warm code; the JIT cost is printed on its own line: the first call in this process (numba's on-disk
cache, `cache=True`, when it is there) and a cold compile in a fresh process whose numba cache directory is empty.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import talib

from zquant_factor.domain.indicators import oscillators, trend

SIZES = (
    [(int(os.environ["ZQUANT_BENCH_DATES"]), int(os.environ["ZQUANT_BENCH_STOCKS"]))]
    if "ZQUANT_BENCH_DATES" in os.environ and "ZQUANT_BENCH_STOCKS" in os.environ
    else [(2500, 5000), (5000, 2500)]
)
DATES, STOCKS = SIZES[0]
Bars = tuple[np.ndarray, np.ndarray, np.ndarray]


def bars(dates: int, stocks: int) -> Bars:
    rng = np.random.default_rng(20260901)
    close = 10.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (dates, stocks)), axis=0))
    spread = np.abs(rng.normal(0.0, 0.01, (2, dates, stocks)))
    high, low = close * (1 + spread[0]), close * (1 - spread[1])
    suspended = rng.random((dates, stocks)) < 0.01
    for panel in (high, low, close):
        panel[suspended] = np.nan
    return high, low, close


def indicator_set(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> list[Callable[[], object]]:
    return [
        lambda: trend.macd(close),
        lambda: oscillators.kdj(high, low, close),
        lambda: oscillators.rsi(close, n=6),
        lambda: oscillators.rsi(close, n=12),
        lambda: oscillators.rsi(close, n=24),
        lambda: trend.boll(close),
        lambda: oscillators.cci(high, low, close),
    ]


def ours(data: Bars) -> float:
    started = time.perf_counter()
    for compute in indicator_set(*data):
        compute()
    return time.perf_counter() - started


def talib_per_stock(data: Bars, *, assemble: bool = False) -> float:
    """TA-Lib on each stock's traded bars; with `assemble`, its 13 outputs also scattered into panels, as the
    engine returns them (what a caller storing the values needs)."""
    high, low, close = data
    started = time.perf_counter()
    panels = np.full((13, *close.shape), np.nan) if assemble else None
    for j in range(close.shape[1]):
        traded = ~np.isnan(close[:, j])
        h, lo, c = high[traded, j], low[traded, j], close[traded, j]
        outputs = [
            *talib.MACD(c, 12, 26, 9),
            *talib.STOCH(h, lo, c, 9, 5, talib.MA_Type.EMA, 5, talib.MA_Type.EMA),
            *(talib.RSI(c, n) for n in (6, 12, 24)),
            *talib.BBANDS(c, 20, 2, 2),
            talib.CCI(h, lo, c, 14),
        ]
        if panels is not None:
            for k, values in enumerate(outputs):
                panels[k, traded, j] = values
    return time.perf_counter() - started


def warm_up(data: Bars) -> float:
    """Seconds to compile (or load from numba's cache) every kernel of the set, on a small slice."""
    started = time.perf_counter()
    ours(tuple(panel[:50, :3] for panel in data))
    return time.perf_counter() - started


def cold_compile() -> float:
    """The warm-up in a fresh process with an empty numba cache directory: the JIT compile a cold service pays."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        measured = subprocess.run(
            [sys.executable, __file__, "--compile"], capture_output=True, text=True, check=True, env=env
        )
    return float(measured.stdout)


def memory() -> None:
    """Subprocess body: peak traced bytes over the input, one indicator's outputs alive at a time, then all."""
    data = bars(DATES, STOCKS)
    warm_up(data)  # outside the trace
    input_bytes = sum(panel.nbytes for panel in data)
    tracemalloc.start()
    for compute in indicator_set(*data):
        compute()
    streamed = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    kept = [compute() for compute in indicator_set(*data)]
    everything = tracemalloc.get_traced_memory()[1]
    del kept
    print(f"{streamed / input_bytes:.2f} {everything / input_bytes:.2f} {input_bytes / 2**20:.0f}")


def timed(data: Bars) -> None:
    """Best of three interleaved rounds: a shared machine's changing load falls on all three alike."""
    rounds = [(ours(data), talib_per_stock(data), talib_per_stock(data, assemble=True)) for _ in range(3)]
    ours_s, talib_s, assembled_s = (min(times) for times in zip(*rounds, strict=True))
    dates, stocks = data[2].shape
    print(
        f"indicator set {dates} days x {stocks} stocks: ours {ours_s:.3f} s, TA-Lib per stock {talib_s:.3f} s, "
        f"ratio {ours_s / talib_s:.2f}x (target <= 0.5x); TA-Lib with its outputs assembled into panels "
        f"{assembled_s:.3f} s, ratio {ours_s / assembled_s:.2f}x"
    )


def main() -> None:
    if sys.argv[1:] == ["--memory"]:
        memory()
        return
    if sys.argv[1:] == ["--compile"]:
        print(warm_up(bars(60, 3)))
        return
    first_call = warm_up(bars(DATES, STOCKS))  # outside the timed rounds
    for dates, stocks in SIZES:
        timed(bars(dates, stocks))
    print(
        f"JIT (not in the times above): kernels warmed up before the rounds, first call here {first_call:.2f} s "
        f"(numba's on-disk cache if present), cold compile {cold_compile():.2f} s in a fresh process with an "
        f"empty numba cache"
    )
    measured = subprocess.run(
        [sys.executable, __file__, "--memory"], capture_output=True, text=True, check=True, env=os.environ
    ).stdout.split()
    streamed, everything, input_mib = measured
    print(
        f"peak memory over input ({DATES} days x {STOCKS} stocks, {input_mib} MiB high+low+close): {streamed}x with outputs handed on "
        f"(target <= 3x), {everything}x with all 13 outputs kept"
    )


if __name__ == "__main__":
    main()
