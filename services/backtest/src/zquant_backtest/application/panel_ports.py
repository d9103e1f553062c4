"""What the run executor needs from marketdata: the market panel of a run's config, and (for the submit use case's
validation) the trade calendar and the known codes. The adapters speak gRPC; tests give fakes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from zquant_backtest.application.run_ports import RunConfig
from zquant_backtest.domain.market import MarketPanel

PANEL_FIELDS = (
    "open", "high", "low", "close", "pre_close", "vol", "amount", "adj_factor",
    "up_limit", "down_limit", "is_st", "is_suspended", "list_days",
)  # fmt: skip
"""GetPanel's fields a run reads (unadjusted): the bars, the adj factor and the rule fields; part of the cache key."""


class PanelSource(Protocol):
    async def load(self, config: RunConfig) -> MarketPanel:
        """The unadjusted panel of ``config``'s universe on the open days from ``config.start`` to ``config.end``,
        with the benchmark's close; raises ``RunFailed`` when marketdata refuses (unknown code, no data)."""
        ...


class MarketCatalog(Protocol):
    """Submit-time validation. The same shape as the task use cases' ``application.market_ports.MarketCatalog``
    (defined there by the service's core): one port when the two land together."""

    async def trading_days(self, start: date, end: date) -> list[date]: ...

    async def unknown_codes(self, codes: Sequence[str]) -> list[str]: ...

    async def index_exists(self, code: str) -> bool: ...
