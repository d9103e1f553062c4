"""The two read-only catalogues the service's use cases lean on: the HTML report of a result and the strategy
templates every user starts from. Adapters render and load; the use cases check rights and ownership."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from zquant_backtest.application.run_ports import EngineKind, RunConfig
from zquant_backtest.domain.simulation import BacktestResult


@dataclass(frozen=True)
class ReportMeta:
    """What the report says about the run besides the engine's result."""

    title: str
    task_id: str
    strategy_name: str
    config: RunConfig
    code_hash: str
    data_version: str
    benchmark_name: str = ""
    created_at: str = ""
    """ISO-8601 UTC."""


class ReportRenderer(Protocol):
    def render(self, result: BacktestResult, meta: ReportMeta) -> str:
        """One self-contained HTML document: styles and chart code inline, nothing fetched from anywhere."""
        ...


@dataclass(frozen=True)
class StrategyTemplate:
    name: str
    """Stable identifier, e.g. ``dual_ma_crossover``."""
    title: str
    description: str
    category: str
    source: str
    params_schema: Mapping[str, object]
    engine: EngineKind = EngineKind.EVENT
    default_params: Mapping[str, object] = field(default_factory=dict)
    factors: Sequence[str] = ()
    """Factor names the template reads through the factor service."""


class TemplateCatalog(Protocol):
    def templates(self) -> Sequence[StrategyTemplate]: ...

    def get(self, name: str) -> StrategyTemplate | None: ...
