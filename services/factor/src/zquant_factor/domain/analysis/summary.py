"""Mean, std, information ratio and t-statistic of per-date series, all horizons at once."""

from __future__ import annotations

import numpy as np

from zquant_factor.domain.analysis.results import FloatArray, SeriesSummary


def summarise(series: FloatArray) -> SeriesSummary:
    """Summarise each row of a horizons × dates array over its finite entries.

    std uses ddof 1 (pandas' and alphalens' tear sheet); ir = mean / std; t = ir × √n, which is
    `scipy.stats.ttest_1samp(series, 0)`'s statistic. Fewer than two points give NaN.
    """
    defined = np.isfinite(series)
    count = np.count_nonzero(defined, axis=1)
    values = np.where(defined, series, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, values.sum(axis=1) / count, np.nan)
        centred = np.where(defined, series - mean[:, None], 0.0)
        std = np.where(count > 1, np.sqrt((centred * centred).sum(axis=1) / (count - 1)), np.nan)
        ir = mean / std
    return SeriesSummary(mean=mean, std=std, ir=ir, t_stat=ir * np.sqrt(count), dates=count.astype(np.int64))
