"""Watchlist entities and rules: a user's favorite stocks and positions, valued from the latest close.

Plain dataclasses; persistence maps them imperatively from the outside. Every rule raises
`InvalidArgument` naming the request field, so the gRPC adapter reports it as a field violation.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from zquant_kit.dates import parse_yyyymmdd
from zquant_kit.errors import InvalidArgument
from zquant_kit.text import check_text
from zquant_marketdata.domain.sync import FIRST_YEAR

MAX_COMMENT_LENGTH = 500
MAX_QUANTITY = 1e12
"""Shares in one position: above the share count of any listed company (the largest is ~4e11)."""
MAX_AVERAGE_COST = 1e6
"""CNY per share: far above any A-share price (the highest ever is a few thousand)."""
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""The exchanges' calendar day: a buy date is "in the future" relative to Beijing time (no DST)."""

_TS_CODE = re.compile(r"^[0-9]{6}\.(SH|SZ|BJ)$")


def check_ts_code(ts_code: str, field: str = "ts_code") -> str:
    """Tushare's code, e.g. `600000.SH`; surrounding blanks and a lower-case suffix are tolerated."""
    normalized = ts_code.strip().upper()
    if not normalized:
        raise InvalidArgument(field, "required")
    if not _TS_CODE.match(normalized):
        raise InvalidArgument(field, "must look like 600000.SH: six digits, then .SH, .SZ or .BJ")
    return normalized


def check_comment(comment: str, field: str = "comment") -> str:
    checked: str = check_text(comment, field, max_length=MAX_COMMENT_LENGTH)
    return checked


def check_quantity(quantity: float, field: str = "quantity") -> float:
    if not (math.isfinite(quantity) and 0 < quantity <= MAX_QUANTITY):
        raise InvalidArgument(field, f"must be a finite number greater than 0 and at most {MAX_QUANTITY:.0e}")
    return float(quantity)


def check_average_cost(average_cost: float, field: str = "average_cost") -> float:
    if not (math.isfinite(average_cost) and 0 <= average_cost <= MAX_AVERAGE_COST):
        raise InvalidArgument(field, f"must be a finite number from 0 to {MAX_AVERAGE_COST:.0e}")
    return float(average_cost)


def parse_buy_date(text: str, now: dt.datetime, field: str = "buy_date") -> dt.date | None:
    """`YYYYMMDD`, not after today in Beijing; empty means unknown."""
    text = text.strip()
    if not text:
        return None
    try:
        value = parse_yyyymmdd(text)
    except ValueError:
        raise InvalidArgument(field, "must be a date as YYYYMMDD") from None
    if value > today_in_china(now):
        raise InvalidArgument(field, "must not be in the future")
    if value.year < FIRST_YEAR:
        raise InvalidArgument(field, f"must not be before {FIRST_YEAR}0101")
    return value


def today_in_china(now: dt.datetime) -> dt.date:
    aware = now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)
    return aware.astimezone(CHINA_TZ).date()


@dataclass(eq=False)
class Favorite:
    user_id: str
    ts_code: str
    comment: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(eq=False)
class Position:
    id: str
    user_id: str
    ts_code: str
    quantity: float
    average_cost: float
    buy_date: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def cost_basis(self) -> float:
        return self.quantity * self.average_cost


def _finite(value: float) -> float:
    """Valuations are always finite: a row stored before the bounds existed (or a corrupt close) values at 0."""
    return value if math.isfinite(value) else 0.0


@dataclass(frozen=True)
class ValuedPosition:
    """A position with the latest stored close of its code; no bar yet (or no usable close) values at 0."""

    position: Position
    last_close: float | None
    last_trade_date: dt.date | None

    @property
    def usable_close(self) -> float | None:
        close = self.last_close
        return close if close is not None and math.isfinite(close) and close >= 0 else None

    @property
    def market_value(self) -> float:
        if self.usable_close is None:
            return 0.0
        return _finite(self.position.quantity * self.usable_close)

    @property
    def profit(self) -> float:
        if self.usable_close is None:
            return 0.0
        return _finite((self.usable_close - self.position.average_cost) * self.position.quantity)

    @property
    def profit_pct(self) -> float:
        """profit / cost basis as a ratio (0.1 is +10 %); 0 for a zero cost basis or no close."""
        basis = _finite(self.position.cost_basis)
        if self.usable_close is None or basis == 0:
            return 0.0
        return _finite(self.profit / basis)
