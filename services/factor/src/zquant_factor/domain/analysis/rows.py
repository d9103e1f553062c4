"""Row-wise (one date = one cross-section) sorting, average ranks, quantiles and correlation.

Every function takes a dates × stocks panel and works on all rows at once; NaN marks "not in
this cross-section". Quantiles reproduce numpy's/pandas' "linear" method exactly, so bins
match `pd.qcut` value for value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatPanel = NDArray[np.float64]
BoolPanel = NDArray[np.bool_]


@dataclass(frozen=True)
class SortedRows:
    """Each row sorted ascending with NaN last: the order, the sorted values, the valid counts."""

    order: NDArray[np.intp]
    values: FloatPanel
    counts: NDArray[np.intp]


def sort_rows(values: FloatPanel) -> SortedRows:
    order = np.argsort(values, axis=1)
    ordered = np.take_along_axis(values, order, axis=1)
    counts = np.count_nonzero(~np.isnan(values), axis=1)
    return SortedRows(order=order, values=ordered, counts=counts)


def average_ranks(rows: SortedRows) -> FloatPanel:
    """1-based ranks per row, ties sharing their average rank (as `scipy.stats.rankdata`); NaN stays NaN."""
    ordered = rows.values
    width = ordered.shape[1]
    flat = ordered.ravel()
    starts_group = np.ones(flat.shape, dtype=bool)
    starts_group[1:] = flat[1:] != flat[:-1]
    starts_group[::width] = True
    group_start = np.flatnonzero(starts_group)
    group_size = np.diff(np.append(group_start, flat.size))
    group_rank = (group_start % width) + (group_size - 1) / 2.0 + 1.0
    sorted_ranks = np.repeat(group_rank, group_size).reshape(ordered.shape)
    sorted_ranks[np.isnan(ordered)] = np.nan
    ranks = np.empty_like(sorted_ranks)
    np.put_along_axis(ranks, rows.order, sorted_ranks, axis=1)
    return ranks


def quantiles_of_rows(rows: SortedRows, probabilities: NDArray[np.float64]) -> FloatPanel:
    """Per-row quantiles (dates × len(probabilities)), numpy's linear method; NaN for empty rows.

    The index arithmetic and the interpolation are numpy's own ("linear": `(n - 1) * q`, then
    `_lerp`), so the results are bit-identical to `np.quantile` on each row's valid values.
    """
    counts = rows.counts[:, None].astype(np.float64)
    probs = probabilities[None, :]
    virtual = (counts - 1.0) * probs
    below = np.floor(virtual)
    gamma = virtual - below
    last = np.maximum(counts - 1.0, 0.0)
    lower = np.minimum(below, last).astype(np.intp)
    upper = np.minimum(below + 1.0, last).astype(np.intp)
    a = np.take_along_axis(rows.values, lower, axis=1)
    b = np.take_along_axis(rows.values, upper, axis=1)
    difference = b - a
    result = a + difference * gamma
    upper_half = gamma >= 0.5
    result[upper_half] = (b - difference * (1.0 - gamma))[upper_half]
    result[rows.counts == 0] = np.nan
    return result


def masked_mean(values: FloatPanel, mask: BoolPanel) -> NDArray[np.float64]:
    """Mean of each row over `mask`; NaN where the row has nothing selected."""
    counts = np.count_nonzero(mask, axis=1)
    totals = np.where(mask, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, totals / counts, np.nan)


def masked_correlation(left: FloatPanel, right: FloatPanel, mask: BoolPanel) -> NDArray[np.float64]:
    """Pearson correlation of each row pair over `mask`; NaN with under two points or no spread."""
    left_centred = np.where(mask, left - masked_mean(left, mask)[:, None], 0.0)
    right_centred = np.where(mask, right - masked_mean(right, mask)[:, None], 0.0)
    covariance = (left_centred * right_centred).sum(axis=1)
    spread = np.sqrt((left_centred * left_centred).sum(axis=1) * (right_centred * right_centred).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = covariance / spread
    enough = (np.count_nonzero(mask, axis=1) >= 2) & (spread > 0)
    return np.where(enough, correlation, np.nan)
