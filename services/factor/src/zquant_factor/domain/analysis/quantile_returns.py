"""Quantile buckets per date, binned exactly as alphalens' `pd.qcut(x, Q, labels=False) + 1`, and
the equal-weighted mean forward return of each bucket.

Edges are the date's quantiles at 0, 1/Q, …, 1 (linear); a value goes to the first bucket whose
upper edge it does not exceed, the lowest value to bucket 1. A date whose edges repeat (too many
ties for Q buckets) gets no buckets, as `pd.qcut` refuses it; its IC still counts.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.analysis.results import QuantileReturns
from zquant_factor.domain.analysis.rows import FloatPanel, SortedRows, quantiles_of_rows
from zquant_factor.domain.analysis.summary import summarise

UNASSIGNED = 0


def quantile_labels(factor: FloatPanel, observed_sorted: SortedRows, quantile_count: int) -> NDArray[np.int8]:
    """Bucket 1..Q per observed (date, stock), UNASSIGNED elsewhere; `factor` is NaN where unobserved."""
    probabilities = np.linspace(0.0, 1.0, quantile_count + 1) * 100.0 / 100.0
    edges = quantiles_of_rows(observed_sorted, probabilities)
    distinct = np.all(edges[:, 1:] != edges[:, :-1], axis=1)
    labels = np.ones(factor.shape, dtype=np.int8)
    for interior in range(1, quantile_count):
        labels += factor > edges[:, interior : interior + 1]
    labels[~(np.isfinite(factor) & distinct[:, None])] = UNASSIGNED
    return labels


def quantile_returns(
    labels: NDArray[np.int8], forward_returns: list[FloatPanel], quantile_count: int
) -> QuantileReturns:
    """Mean return per horizon × quantile × date over the labelled names, then over dates."""
    dates = labels.shape[0]
    labelled = labels != UNASSIGNED
    keys = (np.arange(dates)[:, None] * quantile_count + labels.astype(np.intp) - 1)[labelled]
    counts = np.bincount(keys, minlength=dates * quantile_count).reshape(dates, quantile_count).T
    date_counts = counts.sum(axis=0)
    by_date = np.empty((len(forward_returns), quantile_count, dates))
    date_means = np.empty((len(forward_returns), dates))
    for row, returns in enumerate(forward_returns):
        values = returns[labelled]
        totals = (
            np.bincount(keys, weights=values, minlength=dates * quantile_count)
            .reshape(dates, quantile_count)
            .T
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            by_date[row] = np.where(counts > 0, totals / counts, np.nan)
            date_means[row] = np.where(date_counts > 0, totals.sum(axis=0) / date_counts, np.nan)
    spread = by_date[:, -1, :] - by_date[:, 0, :]
    return QuantileReturns(
        labels=labels,
        by_date=by_date,
        mean=_mean_over_dates(by_date),
        mean_excess=_mean_over_dates(by_date - date_means[:, None, :]),
        spread=spread,
        spread_summary=summarise(spread),
    )


def _mean_over_dates(by_date: NDArray[np.float64]) -> NDArray[np.float64]:
    defined = np.isfinite(by_date)
    count = np.count_nonzero(defined, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.where(defined, by_date, 0.0).sum(axis=-1) / count, np.nan)
