"""TushareMarketDataSource against the fake Tushare server, through the real SDK.

The fake serves the real bank/index CSVs from shared/data, so the anchors
below are real Tushare-convention numbers.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Iterator

import pandas as pd
import pytest

from services.marketdata.tests.fakes.fake_tushare import Failure, FakeTushareServer
from zquant_kit.testing import SHARED_DATA
from zquant_marketdata.adapters.tushare.source import (
    TokenBucket,
    TushareMarketDataSource,
    TushareSettings,
    ts,
)
from zquant_marketdata.application.source_port import MarketDataSource
from zquant_marketdata.domain.errors import (
    SourceAuthError,
    SourceError,
    SourcePermissionError,
    SourceRateLimitError,
    SourceUnavailableError,
)

pytestmark = pytest.mark.unit

DATA_DIR = SHARED_DATA
TOKEN = "secret-token-0123456789abcdef"
BANKS = {"601398.SH", "601939.SH", "601288.SH", "601988.SH"}
MAX_ATTEMPTS = 3


@pytest.fixture(scope="module")
def market_server() -> Iterator[FakeTushareServer]:
    with FakeTushareServer.from_data_dir(DATA_DIR, token=TOKEN) as server:
        yield server


@pytest.fixture
def server(market_server: FakeTushareServer) -> FakeTushareServer:
    market_server.reset()
    return market_server


def fast_settings(base_url: str, **overrides: object) -> TushareSettings:
    values: dict[str, object] = {
        "token": TOKEN,
        "base_url": base_url,
        "calls_per_minute": 60_000,
        "max_attempts": MAX_ATTEMPTS,
        "backoff_base_seconds": 0.005,
        "timeout": 5.0,
    }
    values.update(overrides)
    return TushareSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def source(server: FakeTushareServer) -> TushareMarketDataSource:
    return TushareMarketDataSource(fast_settings(server.url))


def test_adapter_implements_every_port_method_with_the_same_signature() -> None:
    port_methods = [name for name in vars(MarketDataSource) if not name.startswith("_")]

    assert port_methods
    for name in port_methods:
        adapter_method = getattr(TushareMarketDataSource, name)
        assert inspect.iscoroutinefunction(adapter_method), name
        assert inspect.signature(adapter_method) == inspect.signature(getattr(MarketDataSource, name)), name


# --- data and shape -------------------------------------------------------------------------


async def test_daily_by_trade_date_returns_all_four_banks(source: TushareMarketDataSource) -> None:
    frame = await source.daily(trade_date="20230717", expect_rows=True)

    assert set(frame["ts_code"]) == BANKS
    assert set(frame["trade_date"]) == {"20230717"}


async def test_daily_range_for_one_code_is_newest_first_with_the_ex_rights_row(
    source: TushareMarketDataSource,
) -> None:
    frame = await source.daily(ts_code="601398.SH", start_date="20230710", end_date="20230720")

    assert list(frame["trade_date"]) == sorted(frame["trade_date"], reverse=True)
    assert frame["trade_date"].iloc[0] == "20230720"
    assert frame["trade_date"].iloc[-1] == "20230710"
    ex_rights = frame.set_index("trade_date").loc["20230717"]
    assert ex_rights["pre_close"] == pytest.approx(4.57)
    assert frame.set_index("trade_date").loc["20230714", "close"] == pytest.approx(4.87)


async def test_daily_accepts_a_comma_separated_code_list(source: TushareMarketDataSource) -> None:
    frame = await source.daily(ts_code="601398.SH,601988.SH", start_date="20230717", end_date="20230718")

    assert sorted(zip(frame["trade_date"], frame["ts_code"])) == [
        ("20230717", "601398.SH"), ("20230717", "601988.SH"),
        ("20230718", "601398.SH"), ("20230718", "601988.SH"),
    ]  # fmt: skip


async def test_adj_factor_steps_on_the_ex_rights_day(source: TushareMarketDataSource) -> None:
    frame = await source.adj_factor(ts_code="601398.SH", start_date="20230714", end_date="20230717")

    factors = dict(zip(frame["trade_date"], frame["adj_factor"]))
    assert factors == {"20230717": pytest.approx(2.245984), "20230714": pytest.approx(2.106013)}


async def test_daily_basic_by_trade_date(source: TushareMarketDataSource) -> None:
    frame = await source.daily_basic(trade_date="20230717", expect_rows=True)

    assert set(frame["ts_code"]) == BANKS
    assert {"turnover_rate", "total_mv"} <= set(frame.columns)


async def test_index_daily_serves_the_sse_composite(source: TushareMarketDataSource) -> None:
    frame = await source.index_daily("000001.SH", start_date="20230714", end_date="20230718", expect_rows=True)

    assert list(frame["trade_date"]) == ["20230718", "20230717", "20230714"]
    assert set(frame["ts_code"]) == {"000001.SH"}
    assert {"close", "vol", "amount"} <= set(frame.columns)


async def test_trade_cal_marks_weekends_closed_and_links_the_previous_open_day(
    source: TushareMarketDataSource,
) -> None:
    for exchange in ("SSE", "SZSE"):
        frame = await source.trade_cal(exchange, "20230714", "20230717")

        assert list(frame.columns) == ["exchange", "cal_date", "is_open", "pretrade_date"]
        assert frame.values.tolist() == [
            [exchange, "20230717", 1, "20230714"],
            [exchange, "20230716", 0, "20230714"],
            [exchange, "20230715", 0, "20230714"],
            [exchange, "20230714", 1, "20230713"],
        ]


async def test_stock_basic_asks_for_listing_fields(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    frame = await source.stock_basic("L")

    assert set(frame["ts_code"]) == BANKS
    assert list(frame.columns[:3]) == ["ts_code", "symbol", "name"]
    assert set(frame["exchange"]) == {"SSE"}
    assert frame["delist_date"].isna().all()  # asked for, absent from the data: null, as Tushare
    assert server.calls[-1].params == {"list_status": "L"}


def test_fields_select_and_order_columns(server: FakeTushareServer) -> None:
    api = ts.pro_api(TOKEN)
    api._DataApi__http_url = server.url

    frame = api.daily(ts_code="601398.SH", start_date="20230714", end_date="20230717", fields="close,trade_date")

    assert frame.values.tolist() == [[4.57, "20230717"], [4.87, "20230714"]]
    assert server.calls[-1].fields == "close,trade_date"


async def test_holiday_is_empty_with_columns_unless_rows_are_expected(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    frame = await source.daily(trade_date="20230716")
    assert frame.empty and "close" in frame.columns

    with pytest.raises(SourceUnavailableError, match="no rows"):
        await source.daily(trade_date="20230716", expect_rows=True)


async def test_none_params_are_not_sent(source: TushareMarketDataSource, server: FakeTushareServer) -> None:
    await source.adj_factor(trade_date="20230717")

    assert server.calls[-1].params == {"trade_date": "20230717"}


async def test_in_memory_tables_serve_a_synthetic_market() -> None:
    daily = pd.DataFrame(
        {"ts_code": ["000001.SZ", "000001.SZ"], "trade_date": ["20240102", "20240103"], "close": [10.0, 10.5]}
    )
    stk_factor = daily.rename(columns={"close": "macd"})
    with FakeTushareServer({"daily": daily, "stk_factor": stk_factor}, token=TOKEN) as fake:
        source = TushareMarketDataSource(fast_settings(fake.url))

        factors = await source.stk_factor(ts_code="000001.SZ", expect_rows=True)
        calendar = await source.trade_cal("SZSE", "20240101", "20240103")

    assert list(factors["trade_date"]) == ["20240103", "20240102"]
    assert list(calendar["is_open"]) == [1, 1, 0]


# --- error paths ----------------------------------------------------------------------------


async def test_rate_limit_is_retried_until_it_clears(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    server.fail_next(Failure.RATE_LIMIT, times=MAX_ATTEMPTS - 1)

    frame = await source.daily(trade_date="20230717", expect_rows=True)

    assert len(frame) == 4
    assert len(server.calls) == MAX_ATTEMPTS


async def test_persistent_rate_limit_gives_up_after_max_attempts(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    server.fail_next(Failure.RATE_LIMIT, times=MAX_ATTEMPTS)

    with pytest.raises(SourceRateLimitError):
        await source.daily(trade_date="20230717")
    assert len(server.calls) == MAX_ATTEMPTS


async def test_permission_error_is_not_retried(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    server.fail_next(Failure.PERMISSION_DENIED, times=MAX_ATTEMPTS)

    with pytest.raises(SourcePermissionError, match="没有接口访问权限"):
        await source.stk_factor(trade_date="20230717")
    assert len(server.calls) == 1


async def test_wrong_token_is_not_retried_and_never_echoed(
    server: FakeTushareServer, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_token = "wrong-token-fedcba9876543210"
    source = TushareMarketDataSource(fast_settings(server.url, token=wrong_token))

    with caplog.at_level(logging.DEBUG), pytest.raises(SourceAuthError) as raised:
        await source.trade_cal("SSE", "20230701", "20230731")

    assert len(server.calls) == 1
    assert wrong_token not in str(raised.value)
    assert wrong_token not in caplog.text


async def test_injected_bad_token_answer_is_an_auth_error(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    server.fail_next(Failure.BAD_TOKEN)

    with pytest.raises(SourceAuthError):
        await source.stock_basic("L")
    assert len(server.calls) == 1


async def test_http_500_is_unavailable_even_when_rows_are_optional(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    server.fail_next(Failure.HTTP_500, times=MAX_ATTEMPTS)

    with pytest.raises(SourceUnavailableError, match="HTTP error"):
        await source.daily(trade_date="20230716")
    assert len(server.calls) == MAX_ATTEMPTS


async def test_a_single_http_500_is_retried(source: TushareMarketDataSource, server: FakeTushareServer) -> None:
    server.fail_next(Failure.HTTP_500)

    frame = await source.trade_cal("SSE", "20230714", "20230717")

    assert len(frame) == 4
    assert len(server.calls) == 2


async def test_unknown_tushare_error_is_not_retried(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    with pytest.raises(SourceError, match="stk_factor") as raised:
        await source.stk_factor(trade_date="20230717")

    assert type(raised.value) is SourceError
    assert len(server.calls) == 1


async def test_failure_mid_sync_after_k_successful_calls(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    server.fail_after(2, Failure.PERMISSION_DENIED)
    synced = []

    with pytest.raises(SourcePermissionError):
        for day in ("20230713", "20230714", "20230717", "20230718"):
            synced.append(await source.daily(trade_date=day, expect_rows=True))

    assert len(synced) == 2
    assert [call.params["trade_date"] for call in server.calls] == ["20230713", "20230714", "20230717"]


async def test_network_error_is_retried_then_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    stopped = FakeTushareServer({}, token=TOKEN)
    stopped.start()
    stopped.stop()
    source = TushareMarketDataSource(fast_settings(stopped.url))

    with caplog.at_level(logging.WARNING), pytest.raises(SourceUnavailableError, match="network error") as raised:
        await source.daily(trade_date="20230717")

    retries = [record for record in caplog.records if "retrying" in record.getMessage()]
    assert len(retries) == MAX_ATTEMPTS - 1
    assert TOKEN not in caplog.text and TOKEN not in str(raised.value)


# --- pacing ---------------------------------------------------------------------------------


async def test_token_bucket_allows_a_burst_then_spaces_calls() -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(60, capacity=2, clock=lambda: now[0], sleep=fake_sleep)
    for _ in range(4):
        await bucket.acquire()

    assert slept == [pytest.approx(1.0), pytest.approx(1.0)]


async def test_token_bucket_refills_while_idle() -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(60, clock=lambda: now[0], sleep=fake_sleep)
    await bucket.acquire()
    now[0] += 0.25
    await bucket.acquire()

    assert slept == [pytest.approx(0.75)]


async def test_adapter_paces_each_api_separately(server: FakeTushareServer) -> None:
    source = TushareMarketDataSource(fast_settings(server.url, calls_per_minute=300))  # one call per 0.2 s

    started = time.monotonic()
    for _ in range(3):
        await source.daily(trade_date="20230717")
    same_api = time.monotonic() - started

    started = time.monotonic()
    await source.adj_factor(trade_date="20230717")
    await source.daily_basic(trade_date="20230717")
    await source.index_daily("000001.SH", "20230717", "20230717")
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

    call = asyncio.create_task(source.daily(trade_date="20230717"))
    await tick_until(call)

    assert len(await call) == 4
    assert ticks >= 10


# --- settings -------------------------------------------------------------------------------


def test_settings_keep_the_token_out_of_their_repr() -> None:
    assert TOKEN not in repr(fast_settings("http://127.0.0.1:1/dataapi"))


def test_settings_reject_an_empty_token() -> None:
    with pytest.raises(ValueError, match="token is empty"):
        TushareSettings(token="")
