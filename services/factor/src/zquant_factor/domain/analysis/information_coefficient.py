"""IC (Pearson) and Rank IC (Spearman, as alphalens' `factor_information_coefficient`) per date."""

from __future__ import annotations

import numpy as np

from zquant_factor.domain.analysis.results import InformationCoefficients
from zquant_factor.domain.analysis.rows import (
    BoolPanel,
    FloatPanel,
    average_ranks,
    masked_correlation,
    sort_rows,
)
from zquant_factor.domain.analysis.summary import summarise


def information_coefficients(
    factor: FloatPanel,
    factor_ranks: FloatPanel,
    forward_returns: list[FloatPanel],
    observed: BoolPanel,
) -> InformationCoefficients:
    """One row per horizon of `forward_returns`; each over the same observed cross-sections."""
    ic = np.empty((len(forward_returns), factor.shape[0]))
    rank_ic = np.empty_like(ic)
    for row, returns in enumerate(forward_returns):
        ic[row] = masked_correlation(factor, returns, observed)
        return_ranks = average_ranks(sort_rows(np.where(observed, returns, np.nan)))
        rank_ic[row] = masked_correlation(factor_ranks, return_ranks, observed)
    return InformationCoefficients(
        ic=ic, rank_ic=rank_ic, ic_summary=summarise(ic), rank_ic_summary=summarise(rank_ic)
    )
