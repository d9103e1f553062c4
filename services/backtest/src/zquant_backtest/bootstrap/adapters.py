"""The four outbound adapters the service is built with, each behind an application port.

`build` takes them as one `BacktestAdapters` of factories; `production_adapters()` is what `SERVICE` runs with:
marketdata over gRPC with the service's own credential (market data is the shared store), the owner's factors
through a token identity issues for the owner (`zquant_kit.delegation`), user code only in the sandbox, runs in
worker processes over a bounded on-disk panel cache. Tests pass their own factories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from zquant_backtest.adapters.marketdata_catalog import MarketdataCatalog
from zquant_backtest.adapters.marketdata_panel import MarketdataPanelSource
from zquant_backtest.adapters.panel_cache import PanelCache
from zquant_backtest.adapters.report.renderer import HtmlReportRenderer
from zquant_backtest.adapters.sandbox_runners import sandbox_strategy, sandbox_targets
from zquant_backtest.adapters.templates.catalog import PackagedTemplateCatalog
from zquant_backtest.adapters.worker_executor import WORKER_PRELOAD, WorkerRunExecutor
from zquant_backtest.application.market_ports import MarketCatalog
from zquant_backtest.application.report_ports import ReportRenderer, TemplateCatalog
from zquant_backtest.application.run_ports import RunExecutor
from zquant_backtest.bootstrap.config import NAME, BacktestConfig
from zquant_kit.grpc.delegation_client import IdentityOwnerTokens
from zquant_kit.grpc.wiring import service_channel
from zquant_kit.infrastructure import Infrastructure
from zquant_kit.service_credential import service_metadata
from zquant_kit.workers import WorkerProcesses


@dataclass(frozen=True)
class BacktestAdapters:
    executor: Callable[[BacktestConfig, Infrastructure], RunExecutor]
    market_catalog: Callable[[BacktestConfig, Infrastructure], MarketCatalog]
    report_renderer: Callable[[BacktestConfig, Infrastructure], ReportRenderer]
    template_catalog: Callable[[BacktestConfig, Infrastructure], TemplateCatalog]


def _executor(config: BacktestConfig, infra: Infrastructure) -> WorkerRunExecutor:
    kit = config.kit
    workers = WorkerProcesses(max(1, config.jobs.concurrency), WORKER_PRELOAD)
    infra.on_stop(workers.close)
    root = kit.data_dir / NAME
    return WorkerRunExecutor(
        MarketdataPanelSource(
            service_channel(infra, config.marketdata_address), service_metadata(kit.service_secret)
        ),
        PanelCache(root / "panels", config.panel_cache_bytes),
        workers,
        sandbox_strategy,
        IdentityOwnerTokens(service_channel(infra, kit.identity_address), kit.service_secret, NAME),
        root / "runs",
        targets=sandbox_targets,
        factor_address=config.factor_address,
    )


def _market_catalog(config: BacktestConfig, infra: Infrastructure) -> MarketdataCatalog:
    channel = service_channel(infra, config.marketdata_address)
    return MarketdataCatalog(channel, service_metadata(config.kit.service_secret))


def production_adapters() -> BacktestAdapters:
    return BacktestAdapters(
        executor=_executor,
        market_catalog=_market_catalog,
        report_renderer=lambda config, infra: HtmlReportRenderer(),
        template_catalog=lambda config, infra: PackagedTemplateCatalog(),
    )
