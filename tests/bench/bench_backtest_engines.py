"""Backtest engines (issue 10): both run the full A-share rules core on a seeded synthetic market (main board,
ChiNext and STAR codes, ST spells, suspensions, limit-locked bars, 2014-01 on, so stamp-duty, transfer-fee and
ChiNext limit changes all fall inside).

(a) Event-driven, a dual moving-average strategy (5/20, fixed allocation per stock) on ZQUANT_BENCH_EVENT_STOCKS
    (500) × ZQUANT_BENCH_DATES (2500): stock-bars/s, next to backtrader running the same strategy on the first
    ZQUANT_BENCH_BT_STOCKS (20) stocks of the same data. Target ≥ 100× backtrader, no less than 50×.
(b) Vectorised, monthly top-50 rebalance by a factor on ZQUANT_BENCH_VECTOR_STOCKS (5000) × 2500: wall time, next
    to vectorbt's Portfolio.from_orders (target percent, cash shared, same fill day and price, no A-share rule) on
    the same panel, call_seq "default" and "auto" (sells first, as ours), the ratio against the faster; vectorbt's
    numba kernels are compiled on a small panel first. Target ≤ 3× vectorbt.
ZQUANT_BENCH_QUICK=1 shrinks everything for a smoke run.
"""

from __future__ import annotations

import os
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs scripts: the repo root

import numpy as np
import pandas as pd

from services.backtest.tests.executor.runs import DualMovingAverage
from zquant_backtest.adapters.in_process_strategy import InProcessStrategy
from zquant_backtest.application.event_engine import EventEngine
from zquant_backtest.application.vector_engine import VectorEngine, top_n_weights
from zquant_backtest.domain.boards import boards_of
from zquant_backtest.domain.calendar import period_starts
from zquant_backtest.domain.limits import price_limits
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.orders import FillSettings
from zquant_backtest.domain.rules import rules_on
from zquant_backtest.domain.simulation import RunSettings

QUICK = os.environ.get("ZQUANT_BENCH_QUICK") == "1"
DATES = int(os.environ.get("ZQUANT_BENCH_DATES", 500 if QUICK else 2500))
EVENT_STOCKS = int(os.environ.get("ZQUANT_BENCH_EVENT_STOCKS", 100 if QUICK else 500))
BT_STOCKS = int(os.environ.get("ZQUANT_BENCH_BT_STOCKS", 10 if QUICK else 20))
VECTOR_STOCKS = int(os.environ.get("ZQUANT_BENCH_VECTOR_STOCKS", 500 if QUICK else 5000))
FAST, SLOW, TOP, CASH, COMMISSION = 5, 20, 50, 10_000_000.0, 0.00025
SETTINGS = RunSettings(initial_cash=CASH, fills=FillSettings(slippage_bps=5.0))


def synthetic_codes(stocks: int) -> tuple[str, ...]:
    """40% SSE main board, 30% SZSE main board, 20% ChiNext, 10% STAR, numbered within each board's prefixes."""
    boards = (
        ("SH", 600000),
        ("SH", 600000),
        ("SH", 600000),
        ("SH", 600000),
        ("SZ", 0),
        ("SZ", 0),
        ("SZ", 0),
        ("SZ", 300000),
        ("SZ", 300000),
        ("SH", 688000),
    )
    taken: dict[tuple[str, int], int] = {}
    codes = []
    for i in range(stocks):
        board = boards[i % 10]
        number = taken.get(board, 0)
        taken[board] = number + 1
        codes.append(f"{board[1] + number + (board[1] == 0):06d}.{board[0]}")
    return tuple(codes)


def synthetic_market(dates: int, stocks: int, seed: int = 20261201) -> MarketPanel:
    """Seeded random walks in cents; closes clipped to the day's dated limits, some bars locked at a limit."""
    rng = np.random.default_rng(seed)
    codes = synthetic_codes(stocks)
    days = np.busday_offset(np.datetime64("2014-01-02"), np.arange(dates), roll="forward").astype(
        "datetime64[D]"
    )
    shape = (dates, stocks)
    bars = {name: np.zeros(shape) for name in _FLOATS}
    suspended = rng.random(shape) < 0.01
    is_st = (rng.random(stocks) < 0.05)[None, :] & (np.arange(dates)[:, None] % 400 < 120)
    list_days = np.arange(1, dates + 1)[:, None] + rng.integers(-200, 2000, stocks)[None, :]
    boards, calendar = boards_of(codes), days.tolist()
    close = np.round(rng.uniform(5.0, 50.0, stocks), 2)
    for t in range(dates):
        limits = price_limits(rules_on(calendar[t]), boards, close, is_st[t], list_days[t])
        move = close * (1.0 + rng.normal(0.0003, 0.025, stocks))
        locked = rng.random(stocks) < 0.004
        new_close = np.round(np.clip(move, limits.down + 0.01, np.minimum(limits.up, close * 3.0)), 2)
        new_close = np.where(locked, limits.up.clip(max=close * 3.0).round(2), new_close)
        open_ = np.round(np.clip(close * (1.0 + rng.normal(0.0, 0.01, stocks)), limits.down, limits.up), 2)
        open_ = np.where(locked, new_close, open_)
        spread = np.abs(rng.normal(0.0, 0.01, stocks)) * close
        bars["open"][t], bars["close"][t], bars["pre_close"][t] = open_, new_close, close
        bars["high"][t] = np.where(locked, new_close, np.round(np.maximum(open_, new_close) + spread, 2))
        bars["low"][t] = np.where(locked, new_close, np.round(np.minimum(open_, new_close) - spread, 2))
        close = np.where(suspended[t], close, new_close)
    bars["volume"] = np.where(suspended, 0.0, rng.uniform(1e4, 1e6, shape))
    bars["amount"] = bars["volume"] * (bars["open"] + bars["close"]) / 2.0 / 10.0
    bars["adj_factor"][:] = 1.0
    bars["up_limit"][:] = np.nan
    bars["down_limit"][:] = np.nan
    for field in ("open", "high", "low", "close"):
        bars[field][suspended | (list_days <= 0)] = np.nan
    return MarketPanel(
        dates=days,
        codes=codes,
        **bars,
        is_st=is_st,
        is_suspended=suspended,
        list_days=list_days.astype(np.int64),
    )


_FLOATS = (
    "open",
    "high",
    "low",
    "close",
    "pre_close",
    "volume",
    "amount",
    "adj_factor",
    "up_limit",
    "down_limit",
)


def run_ours_event(panel: MarketPanel) -> tuple[float, int]:
    engine = EventEngine(panel, InProcessStrategy(DualMovingAverage()), SETTINGS)
    started = time.perf_counter()
    result = engine.run({"fast": FAST, "slow": SLOW, "allocation": CASH / len(panel.codes) * 0.95})
    return time.perf_counter() - started, int(result.fills.qty.size)


def run_backtrader(panel: MarketPanel, stocks: int) -> tuple[float, int]:
    import backtrader as bt

    allocation = CASH / EVENT_STOCKS * 0.95

    class DualMA(bt.Strategy):  # type: ignore[misc]
        def __init__(self) -> None:
            self.crosses = [
                bt.ind.CrossOver(bt.ind.SMA(d.close, period=FAST), bt.ind.SMA(d.close, period=SLOW))
                for d in self.datas
            ]
            self.fills = 0

        def notify_order(self, order: bt.Order) -> None:
            self.fills += order.status == order.Completed

        def next(self) -> None:
            for data, cross in zip(self.datas, self.crosses, strict=True):
                if cross[0] > 0 and not self.getposition(data).size:
                    self.buy(data=data, size=int(allocation / data.close[0] // 100 * 100))
                elif cross[0] < 0 and self.getposition(data).size:
                    self.close(data=data)

    cerebro = bt.Cerebro(stdstats=False)
    index = pd.to_datetime(panel.dates)
    for column in range(stocks):
        frame = (
            pd.DataFrame(
                {
                    field: getattr(panel, field)[:, column]
                    for field in ("open", "high", "low", "close", "volume")
                },
                index=index,
            )
            .ffill()
            .bfill()
        )
        cerebro.adddata(bt.feeds.PandasData(dataname=frame, openinterest=None), name=panel.codes[column])
    cerebro.addstrategy(DualMA)
    cerebro.broker.setcash(CASH)
    cerebro.broker.setcommission(commission=COMMISSION)
    started = time.perf_counter()
    strategy = cerebro.run()[0]
    return time.perf_counter() - started, int(strategy.fills)


def monthly_top_n(panel: MarketPanel, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """A persistent random factor; weights 0.98 / TOP on the top TOP at each month start."""
    rng = np.random.default_rng(seed)
    factor = np.cumsum(rng.normal(size=panel.shape), axis=0) * 0.1 + rng.normal(size=panel.shape)
    rebalance = period_starts(panel.dates, "M")
    eligible = panel.has_bar & ~panel.is_st
    return top_n_weights(factor, eligible, TOP, rebalance, invested=0.98), rebalance


def run_ours_vector(
    panel: MarketPanel, weights: np.ndarray, rebalance: np.ndarray
) -> tuple[float, int, float]:
    started = time.perf_counter()
    result = VectorEngine(panel, SETTINGS).run_weights(weights, rebalance)
    return time.perf_counter() - started, int(result.fills.qty.size), float(result.equity.nav[-1])


def run_vectorbt(panel: MarketPanel, weights: np.ndarray, call_seq: str) -> tuple[float, int, float]:
    """Day t's targets filled at day t + 1's open (forward-filled where suspended), 0.025% fees, no A-share rule.
    ``call_seq="auto"`` sells before it buys, as our kernel does; "default" goes in column order."""
    import vectorbt as vbt

    def portfolio(open_: pd.DataFrame, close: pd.DataFrame, size: pd.DataFrame) -> vbt.Portfolio:
        return vbt.Portfolio.from_orders(
            close,
            size=size,
            size_type="targetpercent",
            price=open_,
            fees=COMMISSION,
            init_cash=CASH,
            group_by=True,
            cash_sharing=True,
            call_seq=call_seq,
            freq="1D",
        )

    index = pd.to_datetime(panel.dates)
    open_ = pd.DataFrame(panel.open, index=index).ffill().bfill()
    close = pd.DataFrame(panel.close, index=index).ffill().bfill()
    size = pd.DataFrame(np.roll(weights, 1, axis=0), index=index)
    size.iloc[0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm = portfolio(
            open_.iloc[:30, :20], close.iloc[:30, :20], size.iloc[:30, :20]
        )  # compile the kernels
        warm.value(), warm.orders.count()
        started = time.perf_counter()
        result = portfolio(open_, close, size)
        nav = float(result.value().iloc[-1])
        elapsed = time.perf_counter() - started
    return elapsed, int(result.orders.count()), nav


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    panel = synthetic_market(DATES, EVENT_STOCKS)
    before = peak_mb()
    ours, our_fills = run_ours_event(panel)
    event_peak = peak_mb()
    sample = min(BT_STOCKS, EVENT_STOCKS)
    theirs, their_fills = run_backtrader(panel, sample)
    our_rate, their_rate = EVENT_STOCKS * DATES / ours, sample * DATES / theirs
    print(f"event-driven dual MA {FAST}/{SLOW}, full A-share rules:")
    print(
        f"  backtrader 1.9.78.123  {sample} stocks × {DATES} days  {theirs:7.2f} s  {their_rate:10,.0f} stock-bars/s"
        f"  ({their_fills} fills)"
    )
    print(
        f"  zquant event engine    {EVENT_STOCKS} stocks × {DATES} days  {ours:7.2f} s  {our_rate:10,.0f} "
        f"stock-bars/s  ({our_fills} fills)  = {our_rate / their_rate:.0f}× backtrader (target ≥ 100×, floor 50×)"
    )
    print(f"  peak RSS {event_peak:.0f} MB ({event_peak - before:.0f} MB above the panel's)")
    del panel
    panel = synthetic_market(DATES, VECTOR_STOCKS, seed=20261202)
    weights, rebalance = monthly_top_n(panel)
    before = peak_mb()
    ours_v, our_fills, our_nav = run_ours_vector(panel, weights, rebalance)
    vector_peak = peak_mb()
    print(
        f"vectorised monthly top-{TOP}, {VECTOR_STOCKS} stocks × {DATES} days ({int(rebalance.sum())} rebalances):"
    )
    best = np.inf
    for call_seq in ("default", "auto"):
        theirs_v, their_orders, their_nav = run_vectorbt(panel, weights, call_seq)
        best = min(best, theirs_v)
        print(
            f"  vectorbt 1.2.0 from_orders call_seq={call_seq:<7} (no A-share rules) {theirs_v:7.2f} s  "
            f"({their_orders} orders, final NAV {their_nav:,.0f})"
        )
    print(
        f"  zquant vector engine (full rules)                           {ours_v:7.2f} s  ({our_fills} fills, "
        f"final NAV {our_nav:,.0f})  = {ours_v / best:.2f}× vectorbt's faster time (target ≤ 3×)"
    )
    print(
        f"  peak RSS {vector_peak:.0f} MB ({vector_peak - before:.0f} MB above the panel's), "
        f"after vectorbt {peak_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
