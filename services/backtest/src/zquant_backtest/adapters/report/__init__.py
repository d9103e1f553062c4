"""The self-contained HTML report of one backtest result: data prepared in pure functions, one page with its own
styles and chart code inline."""

from zquant_backtest.adapters.report.renderer import HtmlReportRenderer

__all__ = ["HtmlReportRenderer"]
