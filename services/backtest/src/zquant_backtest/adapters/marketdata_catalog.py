"""Submit-time checks against marketdata: the span of the synced calendar, the open days of a range, which named codes it does not know (one
paged ListStocks of every status, delisted included, then a set difference) and whether an index has bars.
A refusal by marketdata fails the submission with its reason (FAILED_PRECONDITION); an outage stays an RpcError."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import grpc

from zquant.marketdata.v1 import market_data_pb2, market_data_pb2_grpc
from zquant_backtest.adapters.marketdata_panel import refusals_as, yyyymmdd
from zquant_backtest.application.market_ports import MarketCatalog
from zquant_kit.errors import FailedPrecondition
from zquant_kit.grpc.panel_codec import parse_days

PAGE_SIZE = 1000
INDEX_SINCE, INDEX_UNTIL = "19901219", "20991231"
"""Any bar of the index at all (the SSE's first trading day on)."""


def _parsed(yyyymmdd_text: str) -> date:
    return date(int(yyyymmdd_text[:4]), int(yyyymmdd_text[4:6]), int(yyyymmdd_text[6:]))


class MarketdataCatalog(MarketCatalog):
    def __init__(
        self, channel: grpc.aio.Channel, metadata: Sequence[tuple[str, str]], timeout_seconds: float = 60.0
    ) -> None:
        self._stub = market_data_pb2_grpc.MarketDataServiceStub(channel)
        self._metadata = list(metadata)
        self._timeout = timeout_seconds

    async def calendar_span(self) -> tuple[date, date] | None:
        days = await self.trading_days(_parsed(INDEX_SINCE), _parsed(INDEX_UNTIL))
        return (days[0], days[-1]) if days else None

    async def trading_days(self, start: date, end: date) -> list[date]:
        request = market_data_pb2.GetTradeCalendarRequest(
            start_date=yyyymmdd(start), end_date=yyyymmdd(end), open_only=True
        )
        with refusals_as(FailedPrecondition):
            reply = await self._stub.GetTradeCalendar(request, metadata=self._metadata, timeout=self._timeout)
        days: list[date] = sorted(parse_days([day.cal_date for day in reply.days if day.is_open]).tolist())
        return days

    async def unknown_codes(self, codes: Sequence[str]) -> list[str]:
        wanted = set(codes)
        token = ""
        with refusals_as(FailedPrecondition):
            while wanted:
                request = market_data_pb2.ListStocksRequest(page_size=PAGE_SIZE, page_token=token)
                reply = await self._stub.ListStocks(request, metadata=self._metadata, timeout=self._timeout)
                wanted -= {stock.ts_code for stock in reply.stocks}
                token = reply.next_page_token
                if not token:
                    break
        return [code for code in dict.fromkeys(codes) if code in wanted]

    async def index_exists(self, code: str) -> bool:
        request = market_data_pb2.GetIndexBarsRequest(
            ts_code=code, start_date=INDEX_SINCE, end_date=INDEX_UNTIL
        )
        with refusals_as(FailedPrecondition):
            try:
                reply = await self._stub.GetIndexBars(request, metadata=self._metadata, timeout=self._timeout)
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    return False
                raise
        return len(reply.bars) > 0
