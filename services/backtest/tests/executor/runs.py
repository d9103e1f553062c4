"""What the executor tests hand the worker processes: in-process strategies picked by name (the worker imports
this module by its dotted name, so they pickle by reference), a synthetic panel, a fake panel source and owner
tokens, and a progress recorder. The engine benchmarks run `DualMovingAverage` too."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import cast

import numpy as np

from zquant_backtest.adapters.in_process_strategy import InProcessStrategy
from zquant_backtest.adapters.worker_run import TargetsPort
from zquant_backtest.application.panel_ports import PanelSource
from zquant_backtest.application.run_ports import RunConfig, RunFailed, StrategyCode
from zquant_backtest.application.strategy_api import Bars, Context, Strategy
from zquant_backtest.application.strategy_port import FactorSource, StrategyPort
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.params import Param
from zquant_kit.delegation import OwnerTokens
from zquant_kit.errors import PermissionDenied


class BuyAndHold(Strategy):
    params_schema = (Param("code", str, ""), Param("shares", int, 0, minimum=0))

    def handle_bar(self, context: Context, bars: Bars) -> None:
        if context.portfolio.quantities[str(context.params["code"])] == 0:
            context.order_shares(str(context.params["code"]), int(context.params["shares"]))


class DualMovingAverage(Strategy):
    """A fixed allocation on a golden cross of the fast over the slow close average, sold on a death cross."""

    params_schema = (
        Param("fast", int, 5, minimum=2, maximum=60),
        Param("slow", int, 20, minimum=5, maximum=250),
        Param("allocation", float, 10_000.0, minimum=0.0),
    )

    def handle_bar(self, context: Context, bars: Bars) -> None:
        fast, slow = int(context.params["fast"]), int(context.params["slow"])
        closes = context.history(None, "close", slow + 1)
        if closes.shape[0] < slow + 1:
            return
        with np.errstate(invalid="ignore"):
            fast_now, slow_now = closes[-fast:].mean(0), closes[-slow:].mean(0)
            fast_then, slow_then = closes[-fast - 1 : -1].mean(0), closes[-slow - 1 : -1].mean(0)
            golden = (fast_now > slow_now) & (fast_then <= slow_then)
            death = (fast_now < slow_now) & (fast_then >= slow_then)
        held = context.portfolio.quantities
        for i in np.flatnonzero(golden & (held == 0)).tolist():
            context.order_value(context.codes[i], float(context.params["allocation"]))
        for i in np.flatnonzero(death & (held > 0)).tolist():
            context.order_target_shares(context.codes[i], 0)


class FailsOnDayThree(Strategy):
    def handle_bar(self, context: Context, bars: Bars) -> None:
        if context.now >= context.start and len(context.history(None, "close", 4)) == 4:
            raise ValueError("boom on day three")


class Slow(Strategy):
    def handle_bar(self, context: Context, bars: Bars) -> None:
        time.sleep(0.05)


class KillsItsWorker(Strategy):
    """Stands for a worker process dying mid-run (the OOM killer, a crash in native code)."""

    def handle_bar(self, context: Context, bars: Bars) -> None:
        os._exit(3)


class BuysTheTopFactor(Strategy):
    """Buys 100 shares of the code with the highest ``mom`` value, on the first day only."""

    def handle_bar(self, context: Context, bars: Bars) -> None:
        if context.portfolio.quantities.sum() == 0 and not context.params:
            values = np.asarray(context.factor("mom"))
            context.order_shares(context.codes[int(np.nanargmax(values))], 100)


STRATEGIES: dict[str, type[Strategy]] = {
    "buy_and_hold": BuyAndHold,
    "dual_ma": DualMovingAverage,
    "fails": FailsOnDayThree,
    "slow": Slow,
    "top_factor": BuysTheTopFactor,
    "kills_worker": KillsItsWorker,
}


def in_process(code: StrategyCode) -> StrategyPort:
    """The test factory: the "source" names one of the trusted strategies above (nothing is executed)."""
    if code.source not in STRATEGIES:
        raise LookupError(f"no strategy named {code.source!r}")
    return InProcessStrategy(STRATEGIES[code.source]())


class EqualWeights:
    """A vectorised strategy: every code at ``invested / n`` on the first day of each month."""

    params_schema = (Param("invested", float, 0.9, minimum=0.0, maximum=1.0),)

    def targets(
        self, panel: MarketPanel, params: Mapping[str, object], factors: FactorSource | None
    ) -> tuple[np.ndarray, np.ndarray]:
        months = panel.dates.astype("datetime64[M]")
        rebalance = np.concatenate(([True], months[1:] != months[:-1]))
        invested = float(cast(float, params["invested"]))
        return np.full(panel.shape, invested / len(panel.codes)), rebalance


def vectorised(code: StrategyCode) -> TargetsPort:
    return EqualWeights()


def synthetic_panel(codes: tuple[str, ...], start: date, days: int, seed: int = 7) -> MarketPanel:
    """A random walk on business days, every code listed long ago, no limits, no suspensions."""
    dates = np.busday_offset(np.datetime64(start, "D"), np.arange(days), roll="forward").astype(
        "datetime64[D]"
    )
    rng = np.random.default_rng(seed)
    shape = (days, len(codes))
    close = np.round(10 * np.exp(np.cumsum(rng.normal(0, 0.01, shape), axis=0)), 2)
    pre_close = np.vstack([close[:1], close[:-1]])
    nan = np.full(shape, np.nan)
    return MarketPanel(
        dates=dates, codes=codes, open=pre_close.copy(), high=np.maximum(close, pre_close) + 0.01,
        low=np.minimum(close, pre_close) - 0.01, close=close, pre_close=pre_close,
        volume=np.full(shape, 1e6), amount=close * 1e5, adj_factor=np.ones(shape), up_limit=nan,
        down_limit=nan.copy(), is_st=np.zeros(shape, bool), is_suspended=np.zeros(shape, bool),
        list_days=np.full(shape, 1000, dtype=np.int64), benchmark_close=np.linspace(3000.0, 3100.0, days),
    )  # fmt: skip


@dataclass
class FakePanelSource(PanelSource):
    panel: MarketPanel
    loads: int = 0

    async def load(self, config: RunConfig) -> MarketPanel:
        self.loads += 1
        if set(config.codes) - set(self.panel.codes):
            raise RunFailed("marketdata: unknown code")
        return self.panel


@dataclass
class FakeOwnerTokens(OwnerTokens):
    granted: dict[str, str] = field(default_factory=dict)
    asked: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    async def token_for(self, owner_id: str, scopes: tuple[str, ...]) -> str:
        self.asked.append((owner_id, scopes))
        if owner_id not in self.granted:
            raise PermissionDenied("the owner lacks factor:read", permission="factor:read")
        return self.granted[owner_id]


@dataclass
class RecordedProgress:
    reports: list[tuple[float, date | None]] = field(default_factory=list)

    async def report(self, percent: float, current: date | None) -> None:
        self.reports.append((percent, current))


def warm_up() -> int:
    """A tiny dual-MA run in a worker: its first-use imports and caches are paid before anything is timed."""
    from zquant_backtest.application.event_engine import EventEngine

    panel = synthetic_panel(("600000.SH", "000001.SZ"), date(2024, 1, 2), 60)
    result = EventEngine(panel, in_process(StrategyCode("dual_ma", {}))).run()
    return int(result.fills.qty.size)
