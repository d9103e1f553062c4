"""The trade calendar from marketdata's GetTradeCalendar (with the service credential), a year either side of the
day asked about, cached a few minutes: a trading-day trigger fires at most once a day per job."""

from __future__ import annotations

import datetime as dt
import time

import grpc

from zquant.marketdata.v1 import market_data_pb2, market_data_pb2_grpc
from zquant_kit.service_credential import service_metadata
from zquant_scheduler.application.job_ports import TradeCalendars
from zquant_scheduler.domain.calendar import TradeCalendar

_SPAN = dt.timedelta(days=366)
_TTL_SECONDS = 300.0


def _day(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y%m%d").date()


class MarketdataTradeCalendars(TradeCalendars):
    def __init__(self, channel: grpc.aio.Channel, service_secret: str, exchange: str = "SSE") -> None:
        self._stub = market_data_pb2_grpc.MarketDataServiceStub(channel)
        self._secret = service_secret
        self._exchange = exchange
        self._cached: tuple[float, dt.date, TradeCalendar] | None = None

    async def calendar_around(self, day: dt.date) -> TradeCalendar:
        cached = self._cached
        if cached is not None and time.monotonic() < cached[0] and abs((cached[1] - day).days) < 180:
            return cached[2]
        request = market_data_pb2.GetTradeCalendarRequest(
            exchange=self._exchange, start_date=(day - _SPAN).strftime("%Y%m%d"),
            end_date=(day + _SPAN).strftime("%Y%m%d"),
        )  # fmt: skip
        response = await self._stub.GetTradeCalendar(request, metadata=service_metadata(self._secret), timeout=30)
        days = [_day(entry.cal_date) for entry in response.days]
        calendar = TradeCalendar(
            min(days, default=None), max(days, default=None),
            frozenset(_day(entry.cal_date) for entry in response.days if entry.is_open),
        )  # fmt: skip
        self._cached = (time.monotonic() + _TTL_SECONDS, day, calendar)
        return calendar
