"""Row cleaning of Tushare-shaped frames (the vendor's, and the CSV and sample sources' copies of
them): the stock list and the calendar as the source port's records."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol, cast

import pandas as pd

from zquant_kit.dates import parse_yyyymmdd
from zquant_marketdata.application.source_port import CalendarDay, ListStatus, StockRecord


def to_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip().replace("-", "")
    if not text or text.lower() in {"nan", "none", "nat"}:
        return None
    return parse_yyyymmdd(text[:8])


def text_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def stock_records(frame: pd.DataFrame) -> list[StockRecord]:
    rows: dict[str, StockRecord] = {}
    for record in frame.to_dict("records"):
        code = text_or_none(record.get("ts_code"))
        if not code:
            continue
        rows[code] = StockRecord(
            ts_code=code,
            symbol=text_or_none(record.get("symbol")) or code.split(".")[0],
            name=text_or_none(record.get("name")) or code,
            area=text_or_none(record.get("area")),
            industry=text_or_none(record.get("industry")),
            market=text_or_none(record.get("market")),
            exchange=text_or_none(record.get("exchange")),
            list_status=text_or_none(record.get("list_status")) or "L",
            list_date=to_date(record.get("list_date")),
            delist_date=to_date(record.get("delist_date")),
        )
    return list(rows.values())


def calendar_days(frame: pd.DataFrame, exchange: str) -> list[CalendarDay]:
    rows: dict[dt.date, CalendarDay] = {}
    for record in frame.to_dict("records"):
        day = to_date(record.get("cal_date"))
        if day is None:
            continue
        rows[day] = CalendarDay(
            exchange=text_or_none(record.get("exchange")) or exchange,
            cal_date=day,
            is_open=str(record.get("is_open")).strip() in {"1", "1.0", "True", "true"},
            pretrade_date=to_date(record.get("pretrade_date")),
        )
    return [rows[day] for day in sorted(rows)]


class _TushareFrames(Protocol):
    async def stock_basic(self, list_status: ListStatus = "L", *, expect_rows: bool = True) -> pd.DataFrame: ...
    async def trade_cal(self, exchange: str, start_date: str, end_date: str) -> pd.DataFrame: ...


class TushareFrameRecords:
    """`stocks` and `calendar` of a source whose `stock_basic` / `trade_cal` answer Tushare's frames."""

    async def stocks(self, list_status: ListStatus = "L", *, expect_rows: bool = True) -> list[StockRecord]:
        frames = cast(_TushareFrames, self)
        return stock_records(await frames.stock_basic(list_status, expect_rows=expect_rows))

    async def calendar(self, exchange: str, start_date: str, end_date: str) -> list[CalendarDay]:
        frames = cast(_TushareFrames, self)
        return calendar_days(await frames.trade_cal(exchange, start_date, end_date), exchange)
