"""What an executed UPDATE or DELETE reports back."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def affected_rows(result: Result[Any]) -> int:
    """How many rows the statement changed. `AsyncSession.execute` types its answer as a `Result`; for a
    DML statement it is a `CursorResult`, whose rowcount this is (0 where the driver tells none)."""
    return cast(CursorResult[Any], result).rowcount or 0
