"""The four outbound adapters the service is built with, each behind an application port, each made by a
factory hook so a deployment (or a test) picks its own in one line.

`build` takes them as a required argument. `SERVICE` (the `zquant.services` entry point) finds the factories
under the `zquant.backtest.adapters` entry points, one per name in `HOOKS`, registered by the package that
implements the adapter (services/backtest/pyproject.toml):

    [project.entry-points."zquant.backtest.adapters"]
    executor = "zquant_backtest.<module>:<factory>"          # (BacktestConfig, Infrastructure) -> RunExecutor
    market_catalog = "..."                                  # (BacktestConfig, Infrastructure) -> MarketCatalog
    report_renderer = "..."                                 # (BacktestConfig, Infrastructure) -> ReportRenderer
    template_catalog = "..."                                # (BacktestConfig, Infrastructure) -> TemplateCatalog
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from zquant_backtest.application.market_ports import MarketCatalog
from zquant_backtest.application.report_ports import ReportRenderer, TemplateCatalog
from zquant_backtest.application.run_ports import RunExecutor
from zquant_backtest.bootstrap.config import BacktestConfig
from zquant_kit.infrastructure import Infrastructure

GROUP = "zquant.backtest.adapters"
HOOKS = ("executor", "market_catalog", "report_renderer", "template_catalog")


@dataclass(frozen=True)
class BacktestAdapters:
    executor: Callable[[BacktestConfig, Infrastructure], RunExecutor]
    market_catalog: Callable[[BacktestConfig, Infrastructure], MarketCatalog]
    report_renderer: Callable[[BacktestConfig, Infrastructure], ReportRenderer]
    template_catalog: Callable[[BacktestConfig, Infrastructure], TemplateCatalog]


def registered_adapters() -> BacktestAdapters:
    """The factories registered under `GROUP`; a missing one is a deployment error, named."""
    found: dict[str, Any] = {ep.name: ep for ep in entry_points(group=GROUP)}
    missing = [name for name in HOOKS if name not in found]
    if missing:
        raise RuntimeError(
            f"backtest: no adapter registered for {', '.join(missing)} under the {GROUP!r} entry points"
        )
    return BacktestAdapters(**{name: found[name].load() for name in HOOKS})
