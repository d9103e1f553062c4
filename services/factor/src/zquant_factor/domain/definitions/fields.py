"""Field rules of a definition; each raises `InvalidArgument` naming the request field."""

from __future__ import annotations

import re

from zquant_kit.errors import InvalidArgument
from zquant_kit.text import check_text

MAX_NAME_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 2000
MAX_EXPRESSION_LENGTH = 4000

COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
"""A storage column: a lower-case identifier PostgreSQL keeps as is (63 bytes at most)."""
FACTOR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,99}$")
"""The unique handle users and expressions refer to, e.g. `macd` or `momentum_20d`."""
TS_CODE = re.compile(r"^[0-9]{6}\.(SH|SZ|BJ)$")


def _matching(value: str, field: str, pattern: re.Pattern[str], shape: str) -> str:
    check_text(value, field)
    if not value:
        raise InvalidArgument(field, "required")
    if pattern.fullmatch(value) is None:
        raise InvalidArgument(field, f"must be {shape}")
    return value


def check_factor_name(value: str, field: str = "factor_name") -> str:
    shape = "a letter, then up to 99 letters, digits, '_', '.' or '-'"
    return _matching(value.strip(), field, FACTOR_NAME, shape)


def check_column_name(value: str, field: str = "column_name") -> str:
    shape = "a lower-case letter, then up to 62 lower-case letters, digits or '_'"
    return _matching(value.strip(), field, COLUMN_NAME, shape)


def check_ts_code(value: str, field: str = "ts_code") -> str:
    """Tushare's code, e.g. `600000.SH`; blanks around it and a lower-case suffix are tolerated."""
    shape = "like 600000.SH: six digits, then .SH, .SZ or .BJ"
    return _matching(value.strip().upper(), field, TS_CODE, shape)


def check_display_name(value: str, field: str) -> str:
    """cn / en names: free text, required, bounded."""
    value = value.strip()
    check_text(value, field, max_length=MAX_NAME_LENGTH)
    if not value:
        raise InvalidArgument(field, "required")
    return value


def check_description(value: str, field: str = "description") -> str:
    check_text(value, field, max_length=MAX_DESCRIPTION_LENGTH)
    return value


def check_expression_text(value: str, field: str = "expression") -> str:
    """Only the text's bounds; the expression checker port parses it."""
    value = value.strip()
    check_text(value, field, max_length=MAX_EXPRESSION_LENGTH)
    if not value:
        raise InvalidArgument(field, "required for a custom expression factor")
    return value
