"""Run a strategy source through the real SandboxStrategyPort for a few synthetic days, with short deadlines."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from zquant_backtest.adapters.sandbox.limits import SandboxLimits
from zquant_backtest.adapters.sandbox.messages import SandboxRunFailed
from zquant_backtest.adapters.sandbox.strategy import SandboxStrategyPort
from zquant_backtest.application.run_ports import StrategyCode
from zquant_backtest.application.strategy_port import DayView, Phase, PortfolioSnapshot, StrategySetup
from zquant_backtest.domain.arrays import FloatArray
from zquant_backtest.domain.market import PRICE_FIELDS, MarketPanel
from zquant_backtest.domain.order_book import OrderRequest
from zquant_backtest.domain.window import MarketWindow

CODES = ("000001.SZ", "600000.SH", "300750.SZ")
CASH = 1_000_000.0
# The escape suite turns the AST check off: what is tested is the OS layers, not the friendly check.
FAST = SandboxLimits(memory_bytes=1 << 30, cpu_seconds=20, start_deadline_s=30.0, day_deadline_s=2.0,
                     total_deadline_s=40.0, static_check=False)
FactorFn = Callable[[str, int], FloatArray]


def synthetic_panel(days: int) -> MarketPanel:
    """Every float field of day t, code i is 100 * t + i, so a value names the day and the code it came from."""
    shape = (days, len(CODES))
    value = 100.0 * np.arange(days)[:, None] + np.arange(len(CODES))[None, :]
    dates = np.busday_offset(np.datetime64("2024-01-02"), np.arange(days), roll="forward").astype("datetime64[D]")
    return MarketPanel(
        dates=dates, codes=CODES, **{name: value.copy() for name in PRICE_FIELDS},
        up_limit=np.full(shape, np.nan), down_limit=np.full(shape, np.nan), is_st=np.zeros(shape, bool),
        is_suspended=np.zeros(shape, bool), list_days=np.full(shape, 1000, np.int64),
    )


def day_view(panel: MarketPanel, t: int, phase: Phase = Phase.HANDLE_BAR, factor: FactorFn | None = None) -> DayView:
    """Day t's view at `phase`, a flat portfolio of CASH; `factor(name, t)` serves the day's factor values."""
    n = len(panel.codes)
    visible = t if phase is Phase.BEFORE_TRADING else t + 1
    held = np.zeros(n, dtype=np.int64)
    folio = PortfolioSnapshot(cash=CASH, total_value=CASH, qty=held, sellable=held, price=np.full(n, 10.0),
                              cost_basis=lambda: np.zeros(n))

    def factor_of(name: str) -> FloatArray:
        if factor is None:
            raise LookupError("this backtest has no factor source")
        return factor(name, t)

    return DayView(phase=phase, day_index=t, now=panel.days[t], codes=panel.codes,
                   market=MarketWindow(panel, visible), portfolio=folio, eligible=np.arange(n) != 1, factor=factor_of)


def run_strategy(code: str, days: int = 2, params: dict[str, Any] | None = None, limits: SandboxLimits = FAST,
                 factor: FactorFn | None = None) -> list[list[OrderRequest]]:
    """Orders of each day's handle_bar; raises SandboxRunFailed like the engine would see it."""
    panel = synthetic_panel(days)
    port = SandboxStrategyPort(StrategyCode(code, {}), limits)
    try:
        port.initialize(StrategySetup(panel.codes, params or {}, panel.days[0], panel.days[-1]))
        return [list(port.decide(day_view(panel, t, factor=factor))) for t in range(days)]
    finally:
        port.close()


def failure_of(code: str, **kwargs: Any) -> str:
    """The reason a run failed; the test fails if it did not."""
    with pytest.raises(SandboxRunFailed) as caught:
        run_strategy(code, **kwargs)
    return caught.value.reason


def mismatches(cases: dict[str, tuple[str, str]], concurrency: int = 4, limits: SandboxLimits = FAST) -> dict[str, str]:
    """Run every (code, expected fragment of the reason) case, a few children at a time; return the
    cases whose run did not fail with the expected reason (name -> what happened)."""

    def one(case: tuple[str, str]) -> str | None:
        code, expected = case
        try:
            run_strategy(code, limits=limits)
        except SandboxRunFailed as failed:
            return None if expected in failed.reason else failed.reason
        return "the run succeeded"

    with ThreadPoolExecutor(concurrency) as pool:
        outcomes = list(pool.map(one, cases.values()))
    return {name: what for name, what in zip(cases, outcomes, strict=True) if what is not None}


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """A secret in the parent's environment that the child must never see."""
    secret = "canary-7f3a9c"
    monkeypatch.setenv("ZQUANT_SECRET_KEY", secret)
    return secret
