"""Factor analysis: IC / Rank IC, quantile returns, turnover and rank autocorrelation of a factor
panel against forward returns from hfq close, defined as alphalens-reloaded defines them."""

from zquant_factor.domain.analysis.analyse import AnalysisSettings, analyse_factor
from zquant_factor.domain.analysis.results import (
    FactorAnalysis,
    InformationCoefficients,
    QuantileReturns,
    SeriesSummary,
    Turnover,
)

__all__ = [
    "AnalysisSettings",
    "FactorAnalysis",
    "InformationCoefficients",
    "QuantileReturns",
    "SeriesSummary",
    "Turnover",
    "analyse_factor",
]
