"""TushareMarketDataSource against the fake Tushare server, through the real SDK: error paths.

The fake serves the real bank/index CSVs from shared/data, so the anchors are real Tushare-convention numbers.
"""

from __future__ import annotations

import logging

import pytest

from services.marketdata.tests.fakes.fake_tushare import Failure, FakeTushareServer
from services.marketdata.tests.fakes.tushare_settings import MAX_ATTEMPTS, TOKEN, fast_settings
from zquant_marketdata.adapters.tushare.source import (
    TushareMarketDataSource,
)
from zquant_marketdata.application.source_port import BarQuery
from zquant_marketdata.domain.errors import (
    SourceAuthError,
    SourceError,
    SourcePermissionError,
    SourceRateLimitError,
    SourceUnavailableError,
)

pytestmark = pytest.mark.unit


# --- error paths ----------------------------------------------------------------------------


async def test_rate_limit_is_retried_until_it_clears(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    server.fail_next(Failure.RATE_LIMIT, times=MAX_ATTEMPTS - 1)

    frame = await source.bars(BarQuery("daily", trade_date="20230717", expect_rows=True))

    assert len(frame) == 4
    assert len(server.calls) == MAX_ATTEMPTS


GIVING_UP = [
    pytest.param(
        Failure.RATE_LIMIT, SourceRateLimitError, None, lambda source: source.bars(BarQuery("daily", trade_date="20230717")),
        MAX_ATTEMPTS, id="persistent-rate-limit-gives-up-after-max-attempts",
    ),
    pytest.param(
        Failure.PERMISSION_DENIED, SourcePermissionError, "没有接口访问权限",
        lambda source: source.bars(BarQuery("stk_factor", trade_date="20230717")), 1, id="permission-error-is-not-retried",
    ),
    pytest.param(
        Failure.HTTP_500, SourceUnavailableError, "HTTP error", lambda source: source.bars(BarQuery("daily", trade_date="20230716")),
        MAX_ATTEMPTS, id="http-500-is-unavailable-even-when-rows-are-optional",
    ),
]


@pytest.mark.parametrize(("failure", "error", "match", "call", "calls"), GIVING_UP)
async def test_a_failure_that_persists_is_raised_after_the_calls_it_allows(
    source: TushareMarketDataSource, server: FakeTushareServer, failure, error, match, call, calls
) -> None:
    server.fail_next(failure, times=MAX_ATTEMPTS)

    with pytest.raises(error, match=match):
        await call(source)
    assert len(server.calls) == calls


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


async def test_a_single_http_500_is_retried(source: TushareMarketDataSource, server: FakeTushareServer) -> None:
    server.fail_next(Failure.HTTP_500)

    frame = await source.trade_cal("SSE", "20230714", "20230717")

    assert len(frame) == 4
    assert len(server.calls) == 2


async def test_unknown_tushare_error_is_not_retried(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    with pytest.raises(SourceError, match="stk_factor") as raised:
        await source.bars(BarQuery("stk_factor", trade_date="20230717"))

    assert type(raised.value) is SourceError
    assert len(server.calls) == 1


async def test_failure_mid_sync_after_k_successful_calls(
    source: TushareMarketDataSource, server: FakeTushareServer
) -> None:
    server.fail_after(2, Failure.PERMISSION_DENIED)
    synced = []

    with pytest.raises(SourcePermissionError):
        for day in ("20230713", "20230714", "20230717", "20230718"):
            synced.append(await source.bars(BarQuery("daily", trade_date=day, expect_rows=True)))

    assert len(synced) == 2
    assert [call.params["trade_date"] for call in server.calls] == ["20230713", "20230714", "20230717"]


async def test_network_error_is_retried_then_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    stopped = FakeTushareServer({}, token=TOKEN)
    stopped.start()
    stopped.stop()
    source = TushareMarketDataSource(fast_settings(stopped.url))

    with caplog.at_level(logging.WARNING), pytest.raises(SourceUnavailableError, match="network error") as raised:
        await source.bars(BarQuery("daily", trade_date="20230717"))

    retries = [record for record in caplog.records if "retrying" in record.getMessage()]
    assert len(retries) == MAX_ATTEMPTS - 1
    assert TOKEN not in caplog.text and TOKEN not in str(raised.value)
