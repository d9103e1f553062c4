"""The MarketDataReader port over marketdata's gRPC API: GetPanel (decoded with the kit's panel codec),
GetTradeCalendar and ListStocks, each call carrying the credentials the use case forwards.

A bearer token goes as `authorization: Bearer …`; an empty one means the service credential
(`x-zq-service-token`, see market_ports.Credentials for what marketdata grants it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterable, Callable, Iterator, Sequence
from typing import cast

import grpc
import numpy as np

from zquant.marketdata.v1 import common_pb2, market_data_pb2, market_data_pb2_grpc
from zquant_factor.application.market_ports import Adjust, BarPanel, Credentials, MarketDataReader
from zquant_kit.errors import FailedPrecondition, PermissionDenied, Unauthenticated, ZqError
from zquant_kit.grpc.client import bearer
from zquant_kit.grpc.panel_codec import PanelResponse, parse_days, read_panel
from zquant_kit.service_credential import service_metadata

_ADJUST = {
    Adjust.NONE: common_pb2.ADJUST_NONE,
    Adjust.QFQ: common_pb2.ADJUST_QFQ,
    Adjust.HFQ: common_pb2.ADJUST_HFQ,
}
_PAGE = 1000
MAX_CODES_PER_CALL = 10_000
"""GetPanel's bound on ts_codes; the calculation reads in smaller chunks anyway."""


_REFUSALS: dict[grpc.StatusCode, Callable[[str], ZqError]] = {
    grpc.StatusCode.NOT_FOUND: lambda text: FailedPrecondition(f"marketdata: {text}"),
    grpc.StatusCode.INVALID_ARGUMENT: lambda text: FailedPrecondition(f"marketdata: {text}"),
    grpc.StatusCode.FAILED_PRECONDITION: lambda text: FailedPrecondition(f"marketdata: {text}"),
    grpc.StatusCode.PERMISSION_DENIED: lambda text: PermissionDenied(
        f"marketdata: {text}", permission="data:read"
    ),
    grpc.StatusCode.UNAUTHENTICATED: lambda text: Unauthenticated(f"marketdata: {text}"),
}


@contextlib.contextmanager
def _refusals_as_errors() -> Iterator[None]:
    """marketdata's refusals as the kit's errors (the job fails at once, an RPC answers with the same code);
    anything else (UNAVAILABLE, DEADLINE_EXCEEDED) stays an RpcError, which a job retries."""
    try:
        yield
    except grpc.aio.AioRpcError as error:
        refusal = _REFUSALS.get(error.code())
        if refusal is None:
            raise
        raise refusal(error.details() or error.code().name) from None


def _text(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


class GrpcMarketDataReader(MarketDataReader):
    def __init__(
        self, channel: grpc.aio.Channel, service_secret: str, timeout_seconds: float = 600.0
    ) -> None:
        self._stub = market_data_pb2_grpc.MarketDataServiceStub(channel)
        self._service_secret = service_secret
        self._timeout = timeout_seconds

    def _metadata(self, credentials: Credentials) -> list[tuple[str, str]]:
        if credentials.bearer:
            return bearer(credentials.bearer)
        return list(service_metadata(self._service_secret))

    async def trade_days(self, start: dt.date, end: dt.date, credentials: Credentials) -> np.ndarray:
        request = market_data_pb2.GetTradeCalendarRequest(
            start_date=_text(start), end_date=_text(end), open_only=True
        )
        with _refusals_as_errors():
            response = await self._stub.GetTradeCalendar(
                request, metadata=self._metadata(credentials), timeout=self._timeout
            )
        return np.sort(parse_days([day.cal_date for day in response.days if day.is_open]))

    async def panel(
        self,
        codes: Sequence[str],
        start: dt.date,
        end: dt.date,
        fields: Sequence[str],
        adjust: Adjust,
        credentials: Credentials,
    ) -> BarPanel:
        if len(codes) > MAX_CODES_PER_CALL:
            raise ValueError(f"at most {MAX_CODES_PER_CALL} codes per panel read")
        request = market_data_pb2.GetPanelRequest(
            ts_codes=list(codes),
            start_date=_text(start),
            end_date=_text(end),
            fields=list(fields),
            adjust=_ADJUST[adjust],
        )
        stream = self._stub.GetPanel(request, metadata=self._metadata(credentials), timeout=self._timeout)
        with _refusals_as_errors():
            got_codes, days, values = await read_panel(cast(AsyncIterable[PanelResponse], stream))
        position = {code: i for i, code in enumerate(got_codes)}
        order = np.array([position.get(code, -1) for code in codes], dtype=np.int64)
        panels = {}
        for name in fields:
            by_code = values[name]
            # codes × dates from the codec → dates × codes for the engine; a code marketdata lacks is all NaN
            out = np.full((days.size, len(codes)), np.nan)
            known = order >= 0
            out[:, known] = by_code[order[known]].T
            panels[name] = out
        return BarPanel(tuple(codes), days, panels)

    async def industries(self, credentials: Credentials) -> dict[str, str]:
        found: dict[str, str] = {}
        token = ""
        while True:
            request = market_data_pb2.ListStocksRequest(page_size=_PAGE, page_token=token, list_status="L")
            response = await self._stub.ListStocks(
                request, metadata=self._metadata(credentials), timeout=self._timeout
            )
            found.update({stock.ts_code: stock.industry for stock in response.stocks})
            token = response.next_page_token
            if not token:
                return found
