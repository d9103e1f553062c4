"""Factor turnover (alphalens' `quantile_turnover`) and rank autocorrelation
(`factor_rank_autocorrelation`), both against the date `period` rows earlier."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.analysis.quantile_returns import UNASSIGNED
from zquant_factor.domain.analysis.results import Turnover
from zquant_factor.domain.analysis.rows import BoolPanel, FloatPanel, masked_correlation
from zquant_factor.domain.analysis.summary import summarise


def turnover(
    labels: NDArray[np.int8], ranks: FloatPanel, observed: BoolPanel, quantile_count: int, period: int
) -> Turnover:
    """Quantile q's turnover at t: its names not in q at t − period, over its names at t.

    NaN where q is empty at t or the earlier date has no buckets. Rank autocorrelation: Pearson
    correlation of each date's factor ranks with the earlier date's, over names present in both.
    """
    dates = labels.shape[0]
    earlier = np.full(labels.shape, UNASSIGNED, dtype=np.int8)
    earlier[period:] = labels[: dates - period]
    earlier_assigned = np.any(earlier != UNASSIGNED, axis=1)
    by_quantile = np.full((quantile_count, dates), np.nan)
    for quantile in range(1, quantile_count + 1):
        members = labels == quantile
        size = np.count_nonzero(members, axis=1)
        entered = np.count_nonzero(members & (earlier != quantile), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            by_quantile[quantile - 1] = np.where((size > 0) & earlier_assigned, entered / size, np.nan)
    earlier_ranks = np.full(ranks.shape, np.nan)
    earlier_ranks[period:] = ranks[: dates - period]
    both = observed & ~np.isnan(earlier_ranks)
    autocorrelation = masked_correlation(ranks, earlier_ranks, both)
    return Turnover(
        period=period,
        by_quantile=by_quantile,
        mean=summarise(by_quantile).mean,
        rank_autocorrelation=autocorrelation,
        mean_rank_autocorrelation=float(summarise(autocorrelation[None, :]).mean[0]),
    )
