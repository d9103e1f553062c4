"""``ReportRenderer`` as one self-contained HTML page: the template, its CSS and its chart code are package data
read once, and the run's data is embedded as escaped JSON; the page fetches nothing."""

from __future__ import annotations

import re
from html import escape
from importlib import resources

import numpy as np

from zquant_backtest.adapters.report import payload, sections
from zquant_backtest.adapters.report.summary import meta_rows, metric_rows
from zquant_backtest.adapters.report.tables import costs_breakdown, refusals_of, trade_columns
from zquant_backtest.application.report_ports import ReportMeta, ReportRenderer
from zquant_backtest.domain.simulation import BacktestResult

_ASSETS = ("report.html", "report.css", "charts.js", "report.js")
_SLOT = re.compile(r"\{\{(\w+)\}\}")


def _assets() -> dict[str, str]:
    folder = resources.files(__package__).joinpath("assets")
    texts = {name: folder.joinpath(name).read_text(encoding="utf-8") for name in _ASSETS}
    for name in ("charts.js", "report.js", "report.css"):
        if "</" in texts[name]:
            raise ValueError(f"{name} must not contain '</': it is inlined into the page")
    return texts


class HtmlReportRenderer(ReportRenderer):
    def __init__(self) -> None:
        self._assets = _assets()

    def render(self, result: BacktestResult, meta: ReportMeta) -> str:
        dates = [str(day) for day in np.asarray(result.dates, dtype="datetime64[D]")]
        trades = trade_columns(result.fills)
        benchmark = meta.benchmark_name or meta.config.benchmark or "benchmark"
        data = payload.chart_data(result, meta.config.initial_cash, dates, trades, benchmark)
        final_nav = float(result.equity.nav[-1]) if result.equity.nav.size else meta.config.initial_cash
        parts = {
            "title": escape(meta.title),
            "strategy": escape(meta.strategy_name),
            "period": escape(f"{dates[0]} … {dates[-1]}" if dates else "no trading day"),
            "css": self._assets["report.css"],
            "metrics": sections.key_values(metric_rows(result.performance, final_nav)),
            "meta": sections.key_values(meta_rows(meta, result)),
            "costs": sections.costs_table(costs_breakdown(result.fills), result.performance.total_costs),
            "refusals": sections.refusals_section(refusals_of(result.refusals, dates, result.codes)),
            "trades_note": escape(sections.trades_note(trades)),
            "benchmark": escape(benchmark),
            "data": payload.embeddable_json(data),
            "charts_js": self._assets["charts.js"],
            "report_js": self._assets["report.js"],
        }
        # One pass: a slot's text is never scanned again, so a name like "{{data}}" stays text.
        return _SLOT.sub(lambda slot: parts[slot.group(1)], self._assets["report.html"])
