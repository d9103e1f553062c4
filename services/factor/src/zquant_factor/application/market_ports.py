"""What the factor service needs of market data, behind a port: bar panels, the calendar, the stock list.

Market data is a shared store, not user-owned: marketdata checks `data:read` of a user on every read, and
grants its read RPCs (never watchlists or writes) to the service credential. A synchronous RPC forwards the
caller's bearer token, so marketdata checks the caller's own rights; a job reads with a short-lived token of
its owner that identity issues while the job runs (calculation_credentials). Jobs the service starts itself
(auto-update of stale factors) read with the service credential.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Adjust(enum.Enum):
    NONE = "none"
    QFQ = "qfq"
    HFQ = "hfq"


@dataclass(frozen=True, slots=True)
class Credentials:
    """The user's bearer token, forwarded as is; never logged, never stored in a record. Empty: the service
    credential (`x-zq-service-token`), for jobs the service starts itself."""

    bearer: str

    def __repr__(self) -> str:
        return "Credentials(bearer=<redacted>)"


@dataclass(frozen=True, slots=True)
class BarPanel:
    """Fields as float64 panels dates × codes (the indicator engine's orientation), NaN where a stock has no bar."""

    codes: tuple[str, ...]
    dates: np.ndarray
    fields: Mapping[str, np.ndarray]

    def rows_after(self, day: dt.date) -> int:
        """Index of the first date after `day`."""
        return int(np.searchsorted(self.dates, np.datetime64(day, "D"), side="right"))


class MarketDataReader(Protocol):
    async def trade_days(self, start: dt.date, end: dt.date, credentials: Credentials) -> np.ndarray:
        """Open days of the exchange calendar in [start, end], datetime64[D] ascending."""
        ...

    async def panel(
        self,
        codes: Sequence[str],
        start: dt.date,
        end: dt.date,
        fields: Sequence[str],
        adjust: Adjust,
        credentials: Credentials,
    ) -> BarPanel:
        """Every open day in [start, end] on the date axis; `fields` from marketdata's panel fields
        (open, high, low, close, pre_close, change, pct_chg, vol, amount, adj_factor)."""
        ...

    async def industries(self, credentials: Credentials) -> dict[str, str]:
        """Listed stocks' code → industry (stock_basic), which is also the "all" universe."""
        ...


PANEL_FIELDS = frozenset(
    ("open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "amount", "adj_factor")
)

_CALENDAR_SLACK = 1.6
"""Calendar days per trading day, generously (A-shares trade ~244 of 365 days, holidays cluster)."""


async def warmup_start(
    reader: MarketDataReader, start: dt.date, trading_days: int, credentials: Credentials
) -> dt.date:
    """The trading day `trading_days` open days before `start` (or the calendar's first day), from the calendar."""
    if trading_days <= 0:
        return start
    before = start - dt.timedelta(days=1)
    earliest = max(dt.date(1990, 1, 1), start - dt.timedelta(days=int(trading_days * _CALENDAR_SLACK) + 30))
    days = await reader.trade_days(earliest, before, credentials)
    if days.size == 0:
        return start
    first: dt.date = days[max(0, days.size - trading_days)].astype(dt.date)
    return first
