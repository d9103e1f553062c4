"""Run a strategy source in a real sandbox child for a few synthetic days, with short deadlines."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from zquant_backtest.adapters.sandbox.messages import PortfolioView, SandboxOrder, SandboxRunFailed
from zquant_backtest.adapters.sandbox.strategy import SandboxLimits, SandboxStrategy

CODES = ["000001.SZ", "600000.SH", "300750.SZ"]
FIELDS = ["open", "high", "low", "close", "volume", "amount"]
# The escape suite turns the AST check off: what is tested is the OS layers, not the friendly check.
FAST = SandboxLimits(memory_bytes=1 << 30, cpu_seconds=20, start_deadline_s=30.0, day_deadline_s=3.0,
                     total_deadline_s=40.0, static_check=False)

Runner = Callable[..., Awaitable[list[list[SandboxOrder]]]]


def day_bars(day: int) -> np.ndarray:
    """Bars whose every value encodes the day and the code: 100*day + code index."""
    base = 100.0 * day + np.arange(len(CODES), dtype=np.float64)
    return np.repeat(base[:, None], len(FIELDS), axis=1)


async def run_strategy(code: str, days: int = 2, params: dict[str, Any] | None = None,
                       limits: SandboxLimits = FAST) -> list[list[SandboxOrder]]:
    """Orders of each day; raises SandboxRunFailed like the engine would see it."""
    strategy = SandboxStrategy(limits)
    try:
        await strategy.start(code, params or {}, CODES, FIELDS)
        folio = PortfolioView(1_000_000.0, np.zeros(len(CODES)))
        return [await strategy.on_day(f"2024-01-{d + 2:02d}", day_bars(d), folio) for d in range(days)]
    finally:
        await strategy.close()


async def failure_of(code: str, **kwargs: Any) -> str:
    """The reason a run failed; the test fails if it did not."""
    with pytest.raises(SandboxRunFailed) as caught:
        await run_strategy(code, **kwargs)
    return caught.value.reason


async def mismatches(cases: dict[str, tuple[str, str]], concurrency: int = 4) -> dict[str, str]:
    """Run every (code, expected fragment of the reason) case, a few children at a time; return the
    cases whose run did not fail with the expected reason (name -> what happened)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(code: str, expected: str) -> str | None:
        async with gate:
            try:
                await run_strategy(code)
            except SandboxRunFailed as failed:
                return None if expected in failed.reason else failed.reason
            return "the run succeeded"

    outcomes = await asyncio.gather(*(one(code, expected) for code, expected in cases.values()))
    return {name: what for name, what in zip(cases, outcomes, strict=True) if what is not None}


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """A secret in the parent's environment that the child must never see."""
    secret = "canary-7f3a9c"
    monkeypatch.setenv("ZQUANT_SECRET_KEY", secret)
    return secret
