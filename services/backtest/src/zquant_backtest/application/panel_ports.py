"""What the run executor needs from marketdata: the market panel of a run's config, and (for the submit use case's
validation) the trade calendar and the known codes. The adapters speak gRPC; tests give fakes."""

from __future__ import annotations

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
