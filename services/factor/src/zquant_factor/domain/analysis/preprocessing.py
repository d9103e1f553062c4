"""Optional cross-sectional clean-up of a factor before analysis, applied per date over the
stocks in the cross-section: winsorise (clip at per-date quantiles), industry-neutral demean
(subtract each industry's per-date mean), then z-score (population std, as `scipy.stats.zscore`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.analysis.rows import (
    BoolPanel,
    FloatPanel,
    masked_mean,
    quantiles_of_rows,
    sort_rows,
)

NO_INDUSTRY = -1


def winsorise(factor: FloatPanel, mask: BoolPanel, lower: float, upper: float) -> FloatPanel:
    """Clip each date's values to its `lower` and `upper` quantiles (numpy's linear method)."""
    values = np.where(mask, factor, np.nan)
    bounds = quantiles_of_rows(sort_rows(values), np.array([lower, upper]))
    return np.clip(values, bounds[:, :1], bounds[:, 1:])


def industry_demean(factor: FloatPanel, mask: BoolPanel, industries: NDArray[np.int64]) -> FloatPanel:
    """Subtract each (date, industry) mean; stocks labelled NO_INDUSTRY leave the cross-section (NaN)."""
    dates, _ = factor.shape
    groups = int(industries.max(initial=NO_INDUSTRY)) + 1
    labelled = mask & (industries >= 0)[None, :]
    keys = np.arange(dates)[:, None] * groups + np.maximum(industries, 0)[None, :]
    totals = np.bincount(keys[labelled], weights=factor[labelled], minlength=dates * groups)
    counts = np.bincount(keys[labelled], minlength=dates * groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = totals / counts
    return np.where(labelled, factor - means[keys], np.nan)


def zscore(factor: FloatPanel, mask: BoolPanel) -> FloatPanel:
    """(x − mean) / std per date, population std; a date without spread becomes NaN."""
    mean = masked_mean(factor, mask)[:, None]
    centred = np.where(mask, factor - mean, np.nan)
    std = np.sqrt(masked_mean(centred * centred, mask))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mask & (std > 0), centred / std, np.nan)
