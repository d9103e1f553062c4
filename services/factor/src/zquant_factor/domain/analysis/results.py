"""What a factor analysis returns: small frozen records of numpy arrays, indexed by the panel's
rows (dates), the settings' horizons and the quantiles 1..Q (stored at 0..Q-1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SeriesSummary:
    """Per horizon, over the dates where the series is defined: mean, std (ddof 1), mean / std, t-stat."""

    mean: FloatArray
    std: FloatArray
    ir: FloatArray
    t_stat: FloatArray
    dates: NDArray[np.int64]


@dataclass(frozen=True)
class InformationCoefficients:
    """IC (Pearson) and Rank IC (Spearman) per horizon × date, with their summaries."""

    ic: FloatArray
    rank_ic: FloatArray
    ic_summary: SeriesSummary
    rank_ic_summary: SeriesSummary


@dataclass(frozen=True)
class QuantileReturns:
    """Equal-weighted mean forward return per horizon × quantile × date and over dates.

    `mean_excess` subtracts each date's cross-sectional mean first (alphalens' `demeaned=True`).
    `spread` is top minus bottom quantile, per horizon × date, summarised in `spread_summary`.
    """

    labels: NDArray[np.int8]
    by_date: FloatArray
    mean: FloatArray
    mean_excess: FloatArray
    spread: FloatArray
    spread_summary: SeriesSummary


@dataclass(frozen=True)
class Turnover:
    """Share of each quantile's names that were not in it `period` dates before (quantile × date),
    and the Pearson correlation of factor ranks with those `period` dates before (per date)."""

    period: int
    by_quantile: FloatArray
    mean: FloatArray
    rank_autocorrelation: FloatArray
    mean_rank_autocorrelation: float


@dataclass(frozen=True)
class FactorAnalysis:
    """The whole analysis; `observed` marks the (date, stock) pairs that entered it."""

    horizons: tuple[int, ...]
    quantile_count: int
    observed: NDArray[np.bool_]
    information: InformationCoefficients
    quantiles: QuantileReturns
    turnover: Turnover
