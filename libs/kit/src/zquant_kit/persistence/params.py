"""A list of values bound as one parameter, however long: `column IN (list)` without a parameter
per element, so no statement passes a driver's limit (PostgreSQL's 65,535, SQLite's 32,766)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY


def in_values(column: ColumnElement[Any], values: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """PostgreSQL: ``column = ANY(:text[])``; SQLite: ``column IN (SELECT value FROM json_each(:json))``."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(Text)))
    each = func.json_each(json.dumps(list(values))).table_valued("value")
    return column.in_(select(each.c.value))
