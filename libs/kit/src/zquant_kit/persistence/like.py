"""Substring search with LIKE, safe for any client string: wildcards escaped, length capped.

Without the escape a `%` or `_` in a search matches everything; without the cap a megabyte pattern fails on
SQLite ("LIKE or GLOB pattern too complex") and keeps PostgreSQL busy for minutes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_

from zquant_kit.text import check_text

LIKE_ESCAPE = "\\"
MAX_SEARCH_LENGTH = 100
"""Longest search string accepted: longer than any name or e-mail column it is compared with is pointless."""


def contains_pattern(value: str, field: str, *, max_length: int = MAX_SEARCH_LENGTH) -> str:
    """`%value%` with `%`, `_` and the escape character escaped (use with `escape=LIKE_ESCAPE`).

    Raises InvalidArgument naming `field` for a NUL byte or a value longer than `max_length`.
    """
    check_text(value, field, max_length=max_length)
    escaped = (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def icontains(
    value: str, field: str, *columns: ColumnElement[Any], max_length: int = MAX_SEARCH_LENGTH
) -> ColumnElement[bool]:
    """Case-insensitive "any of `columns` contains `value`" as a SQL expression."""
    pattern = contains_pattern(value, field, max_length=max_length)
    return or_(*(column.ilike(pattern, escape=LIKE_ESCAPE) for column in columns))
