"""`MarketDataSource` over the official tushare SDK (`ts.pro_api`).

What the SDK does, and what this adapter makes of it (tushare 1.4.29):

* It is synchronous (`requests.post`), so each call runs in `asyncio.to_thread`.
* The endpoint is the name-mangled class attribute `DataApi.__http_url`
  (`_DataApi__http_url`), posted to as `{url}/{api_name}`; there is no public
  setter, so the adapter sets it on its own `DataApi` instance.
* Tushare reports errors as HTTP 200 with a non-zero `code`; the SDK raises a
  bare `Exception(msg)`, so only the message text is left to classify.
* On HTTP >= 400 the SDK returns `pd.DataFrame()` with no columns, while a
  real "no data" answer still carries the field names. A frame without
  columns is therefore always `SourceUnavailableError`; a frame with columns
  and no rows is one only when the caller said rows were expected.
* One call is one request: no paging. Tushare caps rows per call (6000 for
  `daily`), so callers keep code x range requests under that cap.

The token lives only inside the SDK object and `TushareSettings` (which keeps
it out of its repr); it never reaches a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import random
import sys
import time
import types
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import requests

from zquant_marketdata.adapters.tushare.rows import TushareFrameRecords
from zquant_marketdata.application.source_port import BarQuery, ListStatus, MarketDataSource
from zquant_marketdata.domain.errors import (
    SourceAuthError,
    SourceError,
    SourcePermissionError,
    SourceRateLimitError,
    SourceUnavailableError,
)
from zquant_marketdata.domain.rule_datasets import RULE_DATASETS


def _import_tushare() -> types.ModuleType:
    """Import tushare even where `six` is absent.

    tushare 1.4.29 imports `six` from its trader and futures modules (unused
    here) without declaring the dependency. A stand-in is registered only for
    the duration of the import, so nothing else in the process sees it.
    """
    if importlib.util.find_spec("six") is not None:
        import tushare

        return tushare
    stand_in = types.ModuleType("six")
    stand_in.PY2, stand_in.PY3 = False, True  # type: ignore[attr-defined]
    sys.modules["six"] = stand_in
    try:
        import tushare
    finally:
        del sys.modules["six"]
    return tushare


ts = _import_tushare()

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://api.waditu.com/dataapi"

STOCK_BASIC_FIELDS = (
    "ts_code,symbol,name,area,industry,market,exchange,list_status,list_date,delist_date"
)
"""Asked for explicitly: Tushare's default omits market, exchange and list_status."""

_MAX_BACKOFF_SECONDS = 60.0
"""Tushare's limits count calls per minute, so waiting longer than that never helps."""


@dataclass(frozen=True)
class TushareSettings:
    """How to reach Tushare; defaults suit a 2000-point account (200 calls/min per API)."""

    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    calls_per_minute: float = 200.0
    max_attempts: int = 5
    backoff_base_seconds: float = 2.0
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not self.token:
            # ts.pro_api would otherwise fall back to a token file in $HOME.
            raise ValueError("Tushare token is empty")
        if self.calls_per_minute <= 0:
            raise ValueError("calls_per_minute must be positive")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


class TokenBucket:
    """Paces calls to one Tushare API so this process stays under its per-minute limit.

    A caller takes a token at once and then sleeps off any deficit, so
    concurrent callers queue up evenly spaced without a lock. Keep `capacity`
    small: up to `capacity + calls_per_minute` calls can land in one minute.
    """

    def __init__(
        self,
        calls_per_minute: float,
        *,
        capacity: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._tokens_per_second = calls_per_minute / 60.0
        self._capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._refilled_at = clock()

    async def acquire(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._refilled_at) * self._tokens_per_second)
        self._refilled_at = now
        self._tokens -= 1.0
        if self._tokens < 0:
            await self._sleep(-self._tokens / self._tokens_per_second)


def _error_from_message(api_name: str, message: str) -> SourceError:
    """Classify the text of a Tushare error answer.

    The rate-limit check comes first: its message also mentions "权限" (a link
    to the permissions page). The daily-quota message ("每天最多访问") falls
    under permission on purpose: it does not clear within a retry budget.
    """
    if "每分钟最多访问" in message:
        return SourceRateLimitError(api_name, message)
    if "token不对" in message:
        return SourceAuthError(api_name, "Tushare rejected the token")
    if "权限" in message:
        return SourcePermissionError(api_name, message)
    return SourceError(api_name, f"Tushare error: {message}")


_BAR_PARAMS = ("trade_date", "ts_code", "start_date", "end_date")
"""The `BarQuery` fields that are Tushare params of the same name."""


class TushareMarketDataSource(TushareFrameRecords, MarketDataSource):
    """`MarketDataSource` over Tushare Pro with per-API pacing and retries.

    Rate-limit answers and unavailability (network, HTTP, malformed or
    unexpectedly empty answers) are retried with exponential backoff and
    jitter; a bad token, a missing permission or an unknown Tushare error
    fails at once.
    """

    def __init__(self, settings: TushareSettings) -> None:
        self._settings = settings
        self._api = ts.pro_api(settings.token, timeout=settings.timeout)
        self._api._DataApi__http_url = settings.base_url
        self._buckets: dict[str, TokenBucket] = {}

    async def stock_basic(self, list_status: ListStatus = "L", *, expect_rows: bool = True) -> pd.DataFrame:
        return await self._query(
            "stock_basic", {"list_status": list_status}, fields=STOCK_BASIC_FIELDS, expect_rows=expect_rows
        )

    async def trade_cal(self, exchange: str, start_date: str, end_date: str) -> pd.DataFrame:
        params = {"exchange": exchange, "start_date": start_date, "end_date": end_date}
        return await self._query("trade_cal", params, expect_rows=True)

    async def fetch_table(self, api_name: str, params: Mapping[str, str], *, expect_rows: bool = False) -> pd.DataFrame:
        dataset = RULE_DATASETS[api_name]
        return await self._query(api_name, dict(params), fields=",".join(dataset.columns), expect_rows=expect_rows)

    async def bars(self, query: BarQuery) -> pd.DataFrame:
        params = {name: getattr(query, name) for name in _BAR_PARAMS}
        return await self._query(query.api_name, params, expect_rows=query.expect_rows)

    async def _query(
        self, api_name: str, params: dict[str, Any], *, fields: str = "", expect_rows: bool
    ) -> pd.DataFrame:
        # None would reach Tushare as JSON null rather than "not given".
        sent = {name: value for name, value in params.items() if value is not None}
        bucket = self._buckets.setdefault(api_name, TokenBucket(self._settings.calls_per_minute))
        attempt = 1
        while True:
            await bucket.acquire()
            try:
                return await self._call_once(api_name, fields, sent, expect_rows)
            except SourceError as error:
                if not error.retryable or attempt >= self._settings.max_attempts:
                    raise
                delay = self._backoff_seconds(attempt)
                logger.warning(
                    "tushare %s attempt %d/%d failed (%s: %s); retrying in %.2fs",
                    api_name, attempt, self._settings.max_attempts, type(error).__name__, error.detail, delay,
                )
                await asyncio.sleep(delay)
                attempt += 1

    async def _call_once(
        self, api_name: str, fields: str, params: dict[str, Any], expect_rows: bool
    ) -> pd.DataFrame:
        try:
            frame = await asyncio.to_thread(self._api.query, api_name, fields, **params)
        except requests.RequestException as exc:
            raise SourceUnavailableError(api_name, f"network error ({type(exc).__name__})") from exc
        except (ValueError, KeyError) as exc:
            # json.loads on a proxy's HTML page, or an envelope without `data`.
            raise SourceUnavailableError(api_name, f"malformed answer ({type(exc).__name__})") from exc
        except Exception as exc:
            if type(exc) is not Exception:
                raise
            message = str(exc).replace(self._settings.token, "<token>")
            # `from None`: the original carries the unscrubbed server text.
            raise _error_from_message(api_name, message) from None
        if len(frame.columns) == 0:
            raise SourceUnavailableError(api_name, "HTTP error (the SDK returned a frame without columns)")
        if expect_rows and frame.empty:
            raise SourceUnavailableError(api_name, "no rows where rows were expected")
        return frame

    def _backoff_seconds(self, attempt: int) -> float:
        """Exponential delay with jitter, so processes that failed together retry apart."""
        ceiling = min(_MAX_BACKOFF_SECONDS, self._settings.backoff_base_seconds * 2 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)
