"""What the submit use case asks of the market before it queues a task: the calendar, the codes, the indices.

The gRPC adapter reads marketdata; tests use a fake. Every method is a read: nothing here changes the market.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol


class MarketCatalog(Protocol):
    async def calendar_span(self) -> tuple[dt.date, dt.date] | None:
        """The first and last trading day the market holds; None before any calendar was synced."""
        ...

    async def trading_days(self, start: dt.date, end: dt.date) -> Sequence[dt.date]:
        """The open exchange days in [start, end], ascending."""
        ...

    async def unknown_codes(self, codes: Sequence[str]) -> Sequence[str]:
        """Those of `codes` (stocks) the market does not list, in the order given."""
        ...

    async def index_exists(self, code: str) -> bool:
        """An index the market holds bars of (a universe or a benchmark)."""
        ...
