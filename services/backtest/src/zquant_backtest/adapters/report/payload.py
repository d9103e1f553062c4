"""The data the page's charts and trade table read, as one JSON document safe to embed in a ``<script>``."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from zquant_backtest.adapters.report import series
from zquant_backtest.adapters.report.tables import TradeColumns
from zquant_backtest.domain.simulation import BacktestResult

_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def rounded(values: np.ndarray, digits: int) -> list[float | None]:
    """NaN and ±inf become null (JSON has neither)."""
    clean = np.round(np.asarray(values, dtype=np.float64), digits)
    return [v if math.isfinite(v) else None for v in clean.tolist()]


def chart_data(
    result: BacktestResult,
    initial: float,
    dates: Sequence[str],
    trades: TradeColumns,
    benchmark_name: str,
) -> dict[str, Any]:
    equity, performance = result.equity, result.performance
    monthly = series.monthly_matrix(*performance.monthly)
    years, yearly = series.yearly_returns(*performance.yearly)
    benchmark = None if equity.benchmark_nav is None else rounded(equity.benchmark_nav, 2)
    return {
        "dates": list(dates),
        "codes": list(result.codes),
        "nav": rounded(equity.nav, 2),
        "benchmark": benchmark,
        "drawdown": rounded(series.drawdown(equity.nav, initial), 5),
        "rolling_sharpe": rounded(series.rolling_sharpe(equity.nav, initial), 3),
        "rolling_window": series.ROLLING_SHARPE_DAYS,
        "monthly": {"years": list(monthly.years), "returns": [rounded(row, 5) for row in monthly.returns]},
        "yearly": {"years": list(years), "returns": rounded(yearly, 5)},
        "benchmark_name": benchmark_name,
        "trades": {**asdict(trades), "shown": trades.shown},
    }


def embeddable_json(data: dict[str, Any]) -> str:
    """Compact JSON with ``<``, ``>`` and ``&`` escaped, so no value (a code, a name) can close the script tag."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return text.translate(_ESCAPES)
