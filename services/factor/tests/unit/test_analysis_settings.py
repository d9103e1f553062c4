"""analyse_factor's contract: settings and inputs are validated, the universe and the optional
preprocessing act as documented, and a tiny case computed by hand comes out exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zquant_factor.domain.analysis import AnalysisSettings, FactorAnalysis, analyse_factor

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def market() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    close = 10.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, size=(300, 60)), axis=0))
    close[rng.random(close.shape) < 0.03] = np.nan
    factor = rng.normal(size=close.shape) + 0.1 * np.nan_to_num(np.roll(close, -5, axis=0) / close - 1.0)
    return factor, close


def _everywhere(close: np.ndarray) -> np.ndarray:
    return np.ones(close.shape, dtype=bool)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"horizons": ()}, "horizons"),
        ({"horizons": (0, 5)}, "horizons"),
        ({"horizons": (5, 5)}, "horizons"),
        ({"quantiles": 1}, "quantiles"),
        ({"winsorise": (0.9, 0.1)}, "winsorise"),
        ({"turnover_period": 0}, "turnover_period"),
    ],
)
def test_bad_settings_are_refused_by_name(changes: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        dataclasses.replace(AnalysisSettings(), **changes)


def test_bad_inputs_are_refused_by_name(market: tuple[np.ndarray, np.ndarray]) -> None:
    factor, close = market
    with pytest.raises(ValueError, match="close"):
        analyse_factor(factor, close[:-1], _everywhere(factor))
    with pytest.raises(ValueError, match="universe"):
        analyse_factor(factor, close, _everywhere(factor).astype(np.int8))
    with pytest.raises(ValueError, match="close"):
        analyse_factor(factor, np.where(np.isnan(close), np.nan, -close), _everywhere(factor))
    with pytest.raises(ValueError, match="industries"):
        analyse_factor(factor, close, _everywhere(factor), AnalysisSettings(industry_neutral=True))


def test_a_hand_computed_case() -> None:
    """Four names, two dates with returns, two buckets; suspended name 3 is not observed on date 1."""
    nan = np.nan
    close = np.array([[10.0, 10.0, 10.0, 10.0], [11.0, 9.0, 10.5, nan], [11.0, 9.9, 11.55, 10.0]])
    factor = np.array([[4.0, 1.0, 3.0, 2.0], [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    result = analyse_factor(factor, close, _everywhere(close), AnalysisSettings(horizons=(1,), quantiles=2))
    np.testing.assert_array_equal(result.observed, [[True] * 4, [True, True, True, False], [False] * 4])
    np.testing.assert_array_equal(result.quantiles.labels, [[2, 1, 2, 1], [1, 1, 2, 0], [0, 0, 0, 0]])
    # date 0 returns: +10%, −10%, +5%, 0%; ranks of factor 4,1,3,2 and of returns 4,1,3,2 → Rank IC 1
    assert result.information.rank_ic[0, 0] == pytest.approx(1.0)
    # date 1 returns: 0, +10%, +10%; factor ranks 1,2,3, return ranks 1,2.5,2.5 → 1.5 / √(2 × 1.5)
    assert result.information.rank_ic[0, 1] == pytest.approx(1.5 / np.sqrt(3.0))
    assert np.isnan(result.information.rank_ic[0, 2])
    top_date0, bottom_date0 = (0.10 + 0.05) / 2, (-0.10 + 0.0) / 2
    top_date1, bottom_date1 = 0.10, (0.0 + 0.10) / 2
    np.testing.assert_allclose(
        result.quantiles.by_date[0, :, :2], [[bottom_date0, bottom_date1], [top_date0, top_date1]], atol=1e-15
    )
    np.testing.assert_allclose(
        result.quantiles.mean[0], [(bottom_date0 + bottom_date1) / 2, (top_date0 + top_date1) / 2], atol=1e-15
    )
    np.testing.assert_allclose(
        result.quantiles.spread[0, :2], [top_date0 - bottom_date0, top_date1 - bottom_date1], atol=1e-15
    )
    # bucket 2 on date 1 is {2}; it was in bucket 2 on date 0 → no turnover; bucket 1 {0, 1}: 0 is new
    np.testing.assert_allclose(result.turnover.by_quantile[:, 1], [0.5, 0.0])


def _same_analysis(left: FactorAnalysis, right: FactorAnalysis) -> None:
    np.testing.assert_array_equal(left.observed, right.observed)
    np.testing.assert_allclose(left.information.ic, right.information.ic, rtol=0, atol=1e-12)
    np.testing.assert_allclose(left.information.rank_ic, right.information.rank_ic, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(left.quantiles.labels, right.quantiles.labels)
    np.testing.assert_allclose(left.quantiles.by_date, right.quantiles.by_date, rtol=0, atol=1e-12)


def test_names_outside_the_universe_are_as_if_absent(market: tuple[np.ndarray, np.ndarray]) -> None:
    factor, close = market
    universe = np.random.default_rng(5).random(factor.shape) < 0.7
    narrowed = analyse_factor(factor, close, universe)
    absent = analyse_factor(np.where(universe, factor, np.nan), close, _everywhere(factor))
    _same_analysis(narrowed, absent)
    assert not (narrowed.observed & ~universe).any()


def test_zscore_leaves_ic_and_buckets_unchanged(market: tuple[np.ndarray, np.ndarray]) -> None:
    factor, close = market
    plain = analyse_factor(factor, close, _everywhere(factor))
    scored = analyse_factor(factor, close, _everywhere(factor), AnalysisSettings(zscore=True))
    np.testing.assert_allclose(plain.information.ic, scored.information.ic, rtol=0, atol=1e-12)
    np.testing.assert_allclose(plain.information.rank_ic, scored.information.rank_ic, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(plain.quantiles.labels, scored.quantiles.labels)


def test_winsorising_ties_the_tails_and_keeps_rank_ic_close(market: tuple[np.ndarray, np.ndarray]) -> None:
    factor, close = market
    plain = analyse_factor(factor, close, _everywhere(factor))
    clipped = analyse_factor(factor, close, _everywhere(factor), AnalysisSettings(winsorise=(0.1, 0.9)))
    assert not np.allclose(plain.information.ic, clipped.information.ic, equal_nan=True)
    difference = np.nanmax(np.abs(plain.information.rank_ic - clipped.information.rank_ic))
    assert 0.0 < difference < 0.1


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
def test_industry_neutral_equals_analysing_the_demeaned_factor(market: tuple[np.ndarray, np.ndarray]) -> None:
    factor, close = market
    industries = np.arange(factor.shape[1], dtype=np.int64) % 4
    observed = analyse_factor(factor, close, _everywhere(factor)).observed
    demeaned = np.where(observed, factor, np.nan)
    for industry in range(4):
        columns = industries == industry
        demeaned[:, columns] -= np.nanmean(demeaned[:, columns], axis=1, keepdims=True)
    neutral = analyse_factor(
        factor, close, _everywhere(factor), AnalysisSettings(industry_neutral=True), industries
    )
    _same_analysis(neutral, analyse_factor(demeaned, close, _everywhere(factor)))
