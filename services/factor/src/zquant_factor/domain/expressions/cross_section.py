"""Cross-sectional functions: each date's row of stocks on its own, NaN (suspended, not listed) left out."""

from __future__ import annotations

import bottleneck as bn
import numpy as np

from zquant_factor.domain.expressions.panel import Panel


def _valid_counts(x: Panel) -> Panel:
    return np.asarray(np.sum(~np.isnan(x), axis=1, keepdims=True), dtype=np.float64)


def rank(x: Panel) -> Panel:
    """Percentile rank in (0, 1]: average rank among the date's valid values over their count (pandas pct=True)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(bn.nanrankdata(x, axis=1), dtype=np.float64) / _valid_counts(x)


def demean(x: Panel) -> Panel:
    return x - np.asarray(bn.nanmean(x, axis=1), dtype=np.float64)[:, None]


def zscore(x: Panel) -> Panel:
    """(x − mean) / population std of the date's valid values; NaN on a date whose values are all equal."""
    std = np.asarray(bn.nanstd(x, axis=1, ddof=0), dtype=np.float64)[:, None]
    std[std == 0.0] = np.nan
    return demean(x) / std
