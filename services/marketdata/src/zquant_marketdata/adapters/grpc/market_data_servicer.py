"""gRPC inbound adapter of MarketDataService: proto ↔ `MarketQueries`. Every RPC requires data:read of a user,
or the service credential: market data is the shared store, and trusted services (factor's auto-update, the
backtest workers) read it as themselves. Only these read RPCs grant services; watchlists, positions and every
write stay user-only (the service principal holds no permission there)."""

from __future__ import annotations

import asyncio
from functools import partial

import numpy as np

from zquant.marketdata.v1 import common_pb2, market_data_pb2, market_data_pb2_grpc
from zquant_kit import principal
from zquant_kit.errors import InvalidArgument
from zquant_kit.grpc.convert import same_named
from zquant_kit.grpc.panel_codec import format_days
from zquant_kit.pagination import Cursor, single_cursor
from zquant_kit.principal import Principal
from zquant_marketdata.adapters.grpc.panel_codec import encode_panel
from zquant_marketdata.application.panel_query import BAR_FIELDS
from zquant_marketdata.application.queries import (
    DAILY_BASIC_FIELDS,
    INDEX_FIELDS,
    BarsQuery,
    MarketQueries,
    PanelQuery,
    format_date,
)
from zquant_marketdata.application.query_ports import Stock, StockFilter
from zquant_marketdata.domain.bar_rows import BarRows
from zquant_marketdata.domain.panel import codes_per_chunk

PERMISSION = "data:read"
_STOCKS: Cursor[Stock, str] = single_cursor("stocks", lambda stock: stock.ts_code)
_ADJUST = {
    common_pb2.ADJUST_UNSPECIFIED: "none",
    common_pb2.ADJUST_NONE: "none",
    common_pb2.ADJUST_QFQ: "qfq",
    common_pb2.ADJUST_HFQ: "hfq",
}


def _reader() -> Principal:
    """A user holding data:read, or another zquant service."""
    caller = principal.current()
    return caller if caller.is_service else caller.require(PERMISSION)


def _adjust(value: common_pb2.Adjust.ValueType) -> str:
    try:
        return _ADJUST[value]
    except KeyError:
        raise InvalidArgument("adjust", f"unknown Adjust value {value}") from None


def _stock(stock: Stock) -> common_pb2.Stock:
    return common_pb2.Stock(
        ts_code=stock.ts_code,
        symbol=stock.symbol,
        name=stock.name,
        industry=stock.industry or "",
        market=stock.market or "",
        exchange=stock.exchange or "",
        list_status=stock.list_status,
        list_date=format_date(stock.list_date),
        delist_date=format_date(stock.delist_date),
    )


_BAR_VALUE_FIELDS = (*BAR_FIELDS, "adj_factor")
_ENCODE_IN_THREAD_ROWS = 20_000
_DOUBLE = 1  # protobuf wire type of a double (fixed64)


def _field_numbers(message, names: tuple[str, ...]) -> list[int]:
    fields = message.DESCRIPTOR.fields_by_name
    return [fields[name].number for name in names]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _encode_rows(rows: BarRows, names: tuple[str, ...], numbers: list[int], repeated_field: int) -> bytes:
    """The wire bytes of a response whose `repeated_field` holds one message per row with
    ts_code = 1, trade_date = 2 and the doubles `names` at field `numbers`.

    Building thousands of messages one by one costs ~10 µs each in Python; here each code's run
    of rows is one packed numpy record array (fixed layout: same code, 8-char dates, every
    double present), and upb parses the result in C. Rows must be sorted by code.
    """
    unique_days, day_index = np.unique(rows.days, return_inverse=True)
    day_texts = np.array([text.encode() for text in format_days(unique_days)], dtype="S8")[day_index]
    boundaries = np.flatnonzero(np.diff(rows.code_index)) + 1
    starts = np.concatenate([[0], boundaries]).tolist()
    stops = [*boundaries.tolist(), rows.size]
    columns = [np.asarray(rows.values[name], dtype="<f8") if name in rows.values else np.full(rows.size, np.nan)
               for name in names]
    parts = []
    for first, stop in zip(starts, stops, strict=True):
        code = rows.codes[int(rows.code_index[first])].encode()
        body_length = 2 + len(code) + 2 + 8 + 9 * len(names)
        prefix = bytes([repeated_field << 3 | 2]) + _varint(body_length) + bytes([1 << 3 | 2, len(code)]) + code
        layout = [("prefix", f"S{len(prefix)}"), ("date_tag", "S2"), ("date", "S8")]
        for number in numbers:
            layout += [(f"t{number}", "u1"), (f"v{number}", "<f8")]
        records = np.empty(stop - first, dtype=np.dtype(layout))
        records["prefix"] = prefix
        records["date_tag"] = bytes([2 << 3 | 2, 8])
        records["date"] = day_texts[first:stop]
        for number, column in zip(numbers, columns, strict=True):
            records[f"t{number}"] = number << 3 | _DOUBLE
            records[f"v{number}"] = column[first:stop]
        parts.append(records.tobytes())
    return b"".join(parts)


_BAR_NUMBERS = _field_numbers(common_pb2.Bar, _BAR_VALUE_FIELDS)
_INDEX_NUMBERS = _field_numbers(common_pb2.Bar, INDEX_FIELDS)
_BASIC_NUMBERS = _field_numbers(market_data_pb2.DailyBasic, DAILY_BASIC_FIELDS)


async def _response(message_type, rows: BarRows, names: tuple[str, ...], numbers: list[int]):
    """The response holding `rows`; a big one is encoded and parsed on a worker thread (the numpy
    packing releases the GIL), so the event loop keeps serving other calls meanwhile."""
    if rows.size == 0:
        return message_type()
    build = lambda: message_type.FromString(_encode_rows(rows, names, numbers, 1))  # noqa: E731
    if rows.size >= _ENCODE_IN_THREAD_ROWS:
        return await asyncio.to_thread(build)
    return build()


class MarketDataServicer(market_data_pb2_grpc.MarketDataServiceServicer):
    def __init__(self, queries: MarketQueries) -> None:
        self._queries = queries

    async def ListStocks(self, request, context):
        _reader()
        where = StockFilter(**same_named(request, "exchange", "market", "industry", "list_status", "query"))
        stocks, token = await _STOCKS.page(request, partial(self._queries.list_stocks, where))
        return market_data_pb2.ListStocksResponse(stocks=[_stock(s) for s in stocks], next_page_token=token)

    async def GetStock(self, request, context):
        _reader()
        return market_data_pb2.GetStockResponse(stock=_stock(await self._queries.get_stock(request.ts_code)))

    async def GetTradeCalendar(self, request, context):
        _reader()
        days = await self._queries.trade_calendar(
            request.exchange, request.start_date, request.end_date, request.open_only
        )
        return market_data_pb2.GetTradeCalendarResponse(
            days=[
                market_data_pb2.TradeDay(
                    cal_date=format_date(day.cal_date), is_open=day.is_open, pretrade_date=format_date(day.pretrade_date)
                )
                for day in days
            ]
        )

    async def GetBars(self, request, context):
        _reader()
        rows = await self._queries.bars(
            BarsQuery(
                ts_codes=list(request.ts_codes),
                start_date=request.start_date,
                end_date=request.end_date,
                adjust=_adjust(request.adjust),
                adjust_base_date=request.adjust_base_date,
                round_prices=request.round_prices,
            )
        )
        return await _response(market_data_pb2.GetBarsResponse, rows, _BAR_VALUE_FIELDS, _BAR_NUMBERS)

    async def GetIndexBars(self, request, context):
        _reader()
        rows = await self._queries.index_bars(request.ts_code, request.start_date, request.end_date)
        return await _response(market_data_pb2.GetIndexBarsResponse, rows, INDEX_FIELDS, _INDEX_NUMBERS)

    async def GetDailyBasic(self, request, context):
        _reader()
        rows = await self._queries.daily_basic(list(request.ts_codes), request.start_date, request.end_date)
        return await _response(market_data_pb2.GetDailyBasicResponse, rows, DAILY_BASIC_FIELDS, _BASIC_NUMBERS)

    async def GetPanel(self, request, context):
        _reader()
        if request.codes_per_chunk < 0:
            raise InvalidArgument("codes_per_chunk", "must not be negative")
        query = PanelQuery(
            ts_codes=list(request.ts_codes),
            start_date=request.start_date,
            end_date=request.end_date,
            fields=list(request.fields),
            adjust=_adjust(request.adjust),
            adjust_base_date=request.adjust_base_date,
        )
        # The slot is held until the last chunk is sent: the panel's arrays live until then.
        async with self._queries.heavy_read("GetPanel"):
            panel = await self._queries.panel(query)
            per_chunk = codes_per_chunk(panel.days.size, request.codes_per_chunk)
            for response in encode_panel(panel.codes, panel.days, panel.fields, panel.values, per_chunk):
                yield response

