"""Row cleaning: the source's stock-list and calendar frames as the rows the repository stores."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from zquant_kit.dates import parse_yyyymmdd


def _to_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip().replace("-", "")
    if not text or text.lower() in {"nan", "none", "nat"}:
        return None
    return parse_yyyymmdd(text[:8])


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def stock_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for record in frame.to_dict("records"):
        code = _text(record.get("ts_code"))
        if not code:
            continue
        rows[code] = {
            "ts_code": code,
            "symbol": _text(record.get("symbol")) or code.split(".")[0],
            "name": _text(record.get("name")) or code,
            "area": _text(record.get("area")),
            "industry": _text(record.get("industry")),
            "market": _text(record.get("market")),
            "exchange": _text(record.get("exchange")),
            "list_status": _text(record.get("list_status")) or "L",
            "list_date": _to_date(record.get("list_date")),
            "delist_date": _to_date(record.get("delist_date")),
        }
    return list(rows.values())


def calendar_rows(frame: pd.DataFrame, exchange: str) -> list[dict[str, Any]]:
    rows = {}
    for record in frame.to_dict("records"):
        day = _to_date(record.get("cal_date"))
        if day is None:
            continue
        rows[day] = {
            "exchange": _text(record.get("exchange")) or exchange,
            "cal_date": day,
            "is_open": str(record.get("is_open")).strip() in {"1", "1.0", "True", "true"},
            "pretrade_date": _to_date(record.get("pretrade_date")),
        }
    return [rows[day] for day in sorted(rows)]
