"""Fakes of the market catalog, the report renderer, the template catalog and the sandbox's layer probe."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from zquant_backtest.adapters.sandbox_checker import SandboxStrategyChecker
from zquant_backtest.application.market_ports import MarketCatalog
from zquant_backtest.application.report_ports import (
    ReportMeta,
    ReportRenderer,
    StrategyTemplate,
    TemplateCatalog,
)
from zquant_backtest.application.validation_ports import SandboxLayers
from zquant_backtest.domain.simulation import BacktestResult

CODES = frozenset({"600000.SH", "000001.SZ", "600519.SH"})
INDICES = frozenset({"000300.SH", "000905.SH"})
FIRST, LAST = dt.date(2020, 1, 2), dt.date(2024, 12, 31)

BUY_AND_HOLD = """\
def initialize(context):
    context.bought = False


def handle_bar(context, bar):
    if not context.bought:
        order_target_percent(context.codes[0], context.params["weight"])
        context.bought = True
"""
BUY_AND_HOLD_SCHEMA = {"weight": {"type": "float", "min": 0.0, "max": 1.0, "default": 1.0}}


class FakeMarketCatalog(MarketCatalog):
    """Weekdays from 2020-01-02 to 2024-12-31, three stocks, two indices."""

    async def calendar_span(self) -> tuple[dt.date, dt.date] | None:
        return FIRST, LAST

    async def trading_days(self, start: dt.date, end: dt.date) -> Sequence[dt.date]:
        days = np.arange(np.datetime64(max(start, FIRST)), np.datetime64(min(end, LAST)) + 1)
        return [day.item() for day in days[np.is_busday(days)]]

    async def unknown_codes(self, codes: Sequence[str]) -> Sequence[str]:
        return [code for code in codes if code not in CODES]

    async def index_exists(self, code: str) -> bool:
        return code in INDICES


class FakeRenderer(ReportRenderer):
    def __init__(self) -> None:
        self.rendered: list[str] = []

    def render(self, result: BacktestResult, meta: ReportMeta) -> str:
        self.rendered.append(meta.task_id)
        return (
            f"<!doctype html><title>{meta.title}</title><p>{meta.task_id} {result.fingerprint}</p>" + "x" * 10
        )


class FakeTemplates(TemplateCatalog):
    def __init__(self) -> None:
        self._items = [
            StrategyTemplate(
                name="buy_and_hold",
                title="Buy and hold",
                description="holds the first code",
                category="benchmark",
                source=BUY_AND_HOLD,
                params_schema=BUY_AND_HOLD_SCHEMA,
                default_params={"weight": 1.0},
            )  # fmt: skip
        ]

    def templates(self) -> Sequence[StrategyTemplate]:
        return self._items

    def get(self, name: str) -> StrategyTemplate | None:
        return next((item for item in self._items if item.name == name), None)


class UnprobedChecker(SandboxStrategyChecker):
    """The real static checks; fixed layers instead of the probe (which starts a child process)."""

    def layers(self) -> SandboxLayers:
        return SandboxLayers(
            layers=("unprivileged-service", "empty-env", "rlimits"), landlock_abi=0, uid=1000
        )
