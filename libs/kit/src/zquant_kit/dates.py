"""`YYYYMMDD` dates, the format of Tushare and of every date field in zquant's contracts.

Stricter than `strptime("%Y%m%d")` alone, which also takes "2024011" or " 20240101": exactly eight ASCII
digits that make a calendar date.
"""

from __future__ import annotations

import datetime as dt
import re

YYYYMMDD = "%Y%m%d"
_EIGHT_DIGITS = re.compile(r"[0-9]{8}")


def is_yyyymmdd(text: str) -> bool:
    """Eight ASCII digits: the shape of a date, whether or not it is a calendar date."""
    return _EIGHT_DIGITS.fullmatch(text) is not None


def parse_yyyymmdd(text: str) -> dt.date:
    """The date `text` names; ValueError if it is not eight digits or not a calendar date."""
    if not is_yyyymmdd(text):
        raise ValueError(f"expected a date as YYYYMMDD, got {text[:20]!r}")
    return dt.datetime.strptime(text, YYYYMMDD).date()


def parse_optional_yyyymmdd(text: str | None) -> dt.date | None:
    """None for an empty or missing value, the date otherwise (ValueError as `parse_yyyymmdd`)."""
    return parse_yyyymmdd(text) if text else None


def format_yyyymmdd(day: dt.date | None) -> str:
    """ "" for no date."""
    return day.strftime(YYYYMMDD) if day else ""
