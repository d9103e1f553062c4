"""Watchlist entities and rules: a user's favorite stocks and positions, valued from the latest close.

Plain dataclasses; persistence maps them imperatively from the outside. Every rule raises
`InvalidArgument` naming the request field, so the gRPC adapter reports it as a field violation.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from zquant_kit.errors import InvalidArgument

MAX_COMMENT_LENGTH = 500
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""The exchanges' calendar day: a buy date is "in the future" relative to Beijing time (no DST)."""

_TS_CODE = re.compile(r"^[0-9]{6}\.(SH|SZ|BJ)$")
_BUY_DATE = re.compile(r"^[0-9]{8}$")


def check_ts_code(ts_code: str, field: str = "ts_code") -> str:
    """Tushare's code, e.g. `600000.SH`; surrounding blanks and a lower-case suffix are tolerated."""
    normalized = ts_code.strip().upper()
    if not normalized:
        raise InvalidArgument(field, "required")
    if not _TS_CODE.match(normalized):
        raise InvalidArgument(field, "must look like 600000.SH: six digits, then .SH, .SZ or .BJ")
    return normalized


def check_comment(comment: str, field: str = "comment") -> str:
    if len(comment) > MAX_COMMENT_LENGTH:
        raise InvalidArgument(field, f"at most {MAX_COMMENT_LENGTH} characters")
    return comment


def check_quantity(quantity: float, field: str = "quantity") -> float:
    if not math.isfinite(quantity) or quantity <= 0:
        raise InvalidArgument(field, "must be a finite number greater than 0")
    return float(quantity)


def check_average_cost(average_cost: float, field: str = "average_cost") -> float:
    if not math.isfinite(average_cost) or average_cost < 0:
        raise InvalidArgument(field, "must be a finite number, 0 or more")
    return float(average_cost)


def parse_buy_date(text: str, now: dt.datetime, field: str = "buy_date") -> dt.date | None:
    """`YYYYMMDD`, not after today in Beijing; empty means unknown."""
    text = text.strip()
    if not text:
        return None
    if not _BUY_DATE.match(text):
        raise InvalidArgument(field, "must be a date as YYYYMMDD")
    try:
        value = dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise InvalidArgument(field, "must be a date as YYYYMMDD") from None
    if value > today_in_china(now):
        raise InvalidArgument(field, "must not be in the future")
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


@dataclass(frozen=True)
class ValuedPosition:
    """A position with the latest stored close of its code; no bar yet values everything at 0."""

    position: Position
    last_close: float | None
    last_trade_date: dt.date | None

    @property
    def market_value(self) -> float:
        if self.last_close is None:
            return 0.0
        return self.position.quantity * self.last_close

    @property
    def profit(self) -> float:
        if self.last_close is None:
            return 0.0
        return (self.last_close - self.position.average_cost) * self.position.quantity

    @property
    def profit_pct(self) -> float:
        """profit / cost basis as a ratio (0.1 is +10 %); 0 for a zero cost basis or no close."""
        basis = self.position.cost_basis
        if self.last_close is None or basis == 0:
            return 0.0
        return self.profit / basis
