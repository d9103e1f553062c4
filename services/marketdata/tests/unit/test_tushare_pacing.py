"""TushareMarketDataSource against the fake Tushare server, through the real SDK: pacing and settings.

The fake serves the real bank/index CSVs from shared/data, so the anchors are real Tushare-convention numbers.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from services.marketdata.tests.fakes.fake_tushare import FakeTushareServer
from services.marketdata.tests.fakes.tushare_settings import TOKEN, fast_settings
from zquant_marketdata.adapters.tushare.source import (
    TokenBucket,
    TushareMarketDataSource,
    TushareSettings,
)
from zquant_marketdata.application.source_port import BarQuery

pytestmark = pytest.mark.unit


# --- pacing ---------------------------------------------------------------------------------


class FakeTime:
    """A monotonic clock that only moves when the bucket sleeps (or the test moves it); sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_token_bucket_allows_a_burst_then_spaces_calls() -> None:
    time_ = FakeTime()
    slept = time_.slept
    bucket = TokenBucket(60, capacity=2, clock=time_.clock, sleep=time_.sleep)
    for _ in range(4):
        await bucket.acquire()

    assert slept == [pytest.approx(1.0), pytest.approx(1.0)]


async def test_token_bucket_refills_while_idle() -> None:
    time_ = FakeTime()
    slept = time_.slept
    bucket = TokenBucket(60, clock=time_.clock, sleep=time_.sleep)
    await bucket.acquire()
    time_.now += 0.25
    await bucket.acquire()

    assert slept == [pytest.approx(0.75)]


async def test_adapter_paces_each_api_separately(server: FakeTushareServer) -> None:
    source = TushareMarketDataSource(fast_settings(server.url, calls_per_minute=300))  # one call per 0.2 s

    started = time.monotonic()
    for _ in range(3):
        await source.bars(BarQuery("daily", trade_date="20230717"))
    same_api = time.monotonic() - started

    started = time.monotonic()
    await source.bars(BarQuery("adj_factor", trade_date="20230717"))
    await source.bars(BarQuery("daily_basic", trade_date="20230717"))
    await source.bars(BarQuery("index_daily", ts_code="000001.SH", start_date="20230717", end_date="20230717"))
    other_apis = time.monotonic() - started

    assert same_api >= 0.38
    assert other_apis < 0.2


async def test_a_slow_answer_does_not_block_the_event_loop(
    source: TushareMarketDataSource, server: FakeTushareServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = server.answer

    def slow_answer(request: dict) -> tuple[int, dict]:
        time.sleep(0.3)
        return answer(request)

    monkeypatch.setattr(server, "answer", slow_answer)
    ticks = 0

    async def tick_until(call: asyncio.Task) -> None:
        nonlocal ticks
        while not call.done():
            ticks += 1
            await asyncio.sleep(0.01)

    call = asyncio.create_task(source.bars(BarQuery("daily", trade_date="20230717")))
    await tick_until(call)

    assert len(await call) == 4
    assert ticks >= 10


# --- settings -------------------------------------------------------------------------------


def test_settings_keep_the_token_out_of_their_repr() -> None:
    assert TOKEN not in repr(fast_settings("http://127.0.0.1:1/dataapi"))


def test_settings_reject_an_empty_token() -> None:
    with pytest.raises(ValueError, match="token is empty"):
        TushareSettings(token="")
