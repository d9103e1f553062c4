"""Factor analysis of one factor panel: the entry point that ties the pieces together.

A (date, stock) pair is observed when the stock is in the universe that date, has a finite
factor value and traded that day, and every horizon's forward return exists (so all horizons
see the same cross-sections, as in alphalens' cleaned factor data). Everything is computed on
whole panels; the only Python loops run over horizons and quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.analysis.forward_returns import (
    forward_return,
    has_forward_returns,
    held_close,
    validate_close,
)
from zquant_factor.domain.analysis.information_coefficient import information_coefficients
from zquant_factor.domain.analysis.preprocessing import industry_demean, winsorise, zscore
from zquant_factor.domain.analysis.quantile_returns import quantile_labels, quantile_returns
from zquant_factor.domain.analysis.results import FactorAnalysis
from zquant_factor.domain.analysis.rows import BoolPanel, FloatPanel, average_ranks, sort_rows
from zquant_factor.domain.analysis.turnover import turnover


@dataclass(frozen=True)
class AnalysisSettings:
    """Horizons in trading days; `winsorise` is (lower, upper) quantiles to clip at, per date;
    `industry_neutral` needs industry labels; `turnover_period` is in trading days."""

    horizons: tuple[int, ...] = (1, 5, 10, 20)
    quantiles: int = 5
    winsorise: tuple[float, float] | None = None
    industry_neutral: bool = False
    zscore: bool = False
    turnover_period: int = 1

    def __post_init__(self) -> None:
        if not self.horizons or any(not isinstance(h, int) or h < 1 for h in self.horizons):
            raise ValueError(f"horizons: positive integers required, got {self.horizons!r}")
        if len(set(self.horizons)) != len(self.horizons):
            raise ValueError(f"horizons: repeated values in {self.horizons!r}")
        if not isinstance(self.quantiles, int) or self.quantiles < 2:
            raise ValueError(f"quantiles: an integer ≥ 2 required, got {self.quantiles!r}")
        if self.winsorise is not None and not 0.0 <= self.winsorise[0] < self.winsorise[1] <= 1.0:
            raise ValueError(f"winsorise: 0 ≤ lower < upper ≤ 1 required, got {self.winsorise!r}")
        if not isinstance(self.turnover_period, int) or self.turnover_period < 1:
            raise ValueError(f"turnover_period: a positive integer required, got {self.turnover_period!r}")


def analyse_factor(
    factor: FloatPanel,
    close: FloatPanel,
    universe: BoolPanel,
    settings: AnalysisSettings | None = None,
    industries: NDArray[np.int64] | None = None,
) -> FactorAnalysis:
    """Analyse `factor` (dates × stocks) against hfq `close` (NaN = suspended) within `universe`.

    `industries` holds one integer label per stock (−1 = unknown, which leaves the analysis
    when `industry_neutral` is set).
    """
    chosen = settings or AnalysisSettings()
    _validate(factor, close, universe, chosen, industries)
    observed = universe & np.isfinite(factor) & has_forward_returns(close, max(chosen.horizons))
    prepared = _prepare(factor, observed, chosen, industries)
    observed &= np.isfinite(prepared)
    prepared = np.where(observed, prepared, np.nan)
    held = held_close(close)
    returns = [forward_return(close, held, horizon) for horizon in chosen.horizons]
    factor_sorted = sort_rows(prepared)
    ranks = average_ranks(factor_sorted)
    labels = quantile_labels(prepared, factor_sorted, chosen.quantiles)
    return FactorAnalysis(
        horizons=chosen.horizons,
        quantile_count=chosen.quantiles,
        observed=observed,
        information=information_coefficients(prepared, ranks, returns, observed),
        quantiles=quantile_returns(labels, returns, chosen.quantiles),
        turnover=turnover(labels, ranks, observed, chosen.quantiles, chosen.turnover_period),
    )


def _prepare(
    factor: FloatPanel, observed: BoolPanel, settings: AnalysisSettings, industries: NDArray[np.int64] | None
) -> FloatPanel:
    prepared = np.where(observed, factor, np.nan)
    if settings.winsorise is not None:
        prepared = winsorise(prepared, observed, *settings.winsorise)
    if settings.industry_neutral and industries is not None:
        prepared = industry_demean(prepared, observed, industries)
    if settings.zscore:
        prepared = zscore(prepared, observed & np.isfinite(prepared))
    return prepared


def _validate(
    factor: FloatPanel,
    close: FloatPanel,
    universe: BoolPanel,
    settings: AnalysisSettings,
    industries: NDArray[np.int64] | None,
) -> None:
    if factor.ndim != 2:
        raise ValueError(f"factor: a dates × stocks panel required, got shape {factor.shape}")
    for name, panel in (("close", close), ("universe", universe)):
        if panel.shape != factor.shape:
            raise ValueError(f"{name}: shape {panel.shape} differs from factor's {factor.shape}")
    if universe.dtype != np.bool_:
        raise ValueError(f"universe: a boolean mask required, got dtype {universe.dtype}")
    validate_close(close)
    if settings.industry_neutral:
        if industries is None:
            raise ValueError("industries: required when industry_neutral is set")
        if industries.shape != (factor.shape[1],) or not np.issubdtype(industries.dtype, np.integer):
            raise ValueError(
                f"industries: one integer label per stock required, got {industries.dtype} {industries.shape}"
            )
