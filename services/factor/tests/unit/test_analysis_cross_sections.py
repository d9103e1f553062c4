"""The row-wise building blocks and the preprocessing, against scipy / numpy / pandas per row,
on seeded panels with ties, NaN gaps, empty and single-name rows; forward returns by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from zquant_factor.domain.analysis.forward_returns import forward_return, has_forward_returns, held_close
from zquant_factor.domain.analysis.preprocessing import industry_demean, winsorise, zscore
from zquant_factor.domain.analysis.rows import average_ranks, masked_correlation, quantiles_of_rows, sort_rows

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def panel() -> np.ndarray:
    """200 dates × 40 names: continuous rows, rounded rows (ties), gaps, an empty and a one-name row."""
    rng = np.random.default_rng(20260601)
    values = rng.normal(size=(200, 40))
    values[:60] = np.round(values[:60] * 2.0) / 2.0
    values[rng.random(values.shape) < 0.25] = np.nan
    values[100] = np.nan
    values[101, 1:] = np.nan
    return values


def _valid(row: np.ndarray) -> np.ndarray:
    return row[~np.isnan(row)]


def test_average_ranks_equal_scipy_rankdata_per_row(panel: np.ndarray) -> None:
    ranks = average_ranks(sort_rows(panel))
    np.testing.assert_array_equal(np.isnan(ranks), np.isnan(panel))
    for date in range(panel.shape[0]):
        np.testing.assert_array_equal(_valid(ranks[date]), stats.rankdata(_valid(panel[date])))


def test_row_quantiles_are_bit_identical_to_numpy_and_pandas(panel: np.ndarray) -> None:
    probabilities = np.array([0.0, 0.01, 0.2, 0.25, 0.4, 0.5, 0.6, 0.8, 0.99, 1.0])
    mine = quantiles_of_rows(sort_rows(panel), probabilities)
    assert np.isnan(mine[100]).all()
    for date in (d for d in range(panel.shape[0]) if d != 100):
        np.testing.assert_array_equal(mine[date], np.quantile(_valid(panel[date]), probabilities))
        np.testing.assert_array_equal(mine[date], pd.Series(_valid(panel[date])).quantile(probabilities))


def test_masked_correlation_equals_pearsonr_per_row(panel: np.ndarray) -> None:
    other = np.roll(panel, 3, axis=1) + np.random.default_rng(7).normal(size=panel.shape)
    mask = ~np.isnan(panel) & ~np.isnan(other)
    mine = masked_correlation(panel, other, mask)
    for date in range(panel.shape[0]):
        names = mask[date]
        if names.sum() < 2 or np.ptp(panel[date, names]) == 0 or np.ptp(other[date, names]) == 0:
            assert np.isnan(mine[date])
            continue
        expected = stats.pearsonr(panel[date, names], other[date, names]).statistic
        assert mine[date] == pytest.approx(expected, abs=1e-12)


def test_forward_returns_mark_a_suspended_exit_at_its_last_trade() -> None:
    nan = np.nan
    close = np.array([[10.0, nan], [11.0, 20.0], [nan, 21.0], [nan, 22.0], [12.1, nan], [13.0, 24.0]])
    held = held_close(close)
    one_day = forward_return(close, held, 1)
    two_day = forward_return(close, held, 2)
    expected_one = [[0.1, nan], [11.0 / 11.0 - 1.0, 0.05], [nan, 22.0 / 21.0 - 1.0], [nan, 22.0 / 22.0 - 1.0]]
    np.testing.assert_allclose(one_day[:4], expected_one, rtol=0, atol=1e-15)
    assert np.isnan(one_day[4, 1]) and one_day[4, 0] == pytest.approx(13.0 / 12.1 - 1.0)
    assert np.isnan(one_day[5]).all()
    assert two_day[1, 0] == 0.0 and two_day[3, 1] == pytest.approx(24.0 / 22.0 - 1.0)
    assert np.isnan(two_day[4:]).all()
    np.testing.assert_array_equal(
        has_forward_returns(close, 2),
        [[True, False], [True, True], [False, True], [False, True], [False, False], [False, False]],
    )


def test_forward_returns_equal_alphalens_pandas_expression(panel: np.ndarray) -> None:
    close = np.exp(np.nan_to_num(panel, nan=0.0).cumsum(axis=0) * 0.02) * 10.0
    close[np.isnan(panel)] = np.nan
    prices = pd.DataFrame(close)
    for horizon in (1, 5, 20):
        expected = prices.ffill().pct_change(periods=horizon).shift(-horizon).to_numpy(copy=True)
        expected[np.isnan(close)] = np.nan
        np.testing.assert_allclose(
            forward_return(close, held_close(close), horizon), expected, rtol=0, atol=1e-14
        )


def test_winsorise_clips_each_date_at_its_quantiles(panel: np.ndarray) -> None:
    mask = ~np.isnan(panel)
    clipped = winsorise(panel, mask, 0.05, 0.95)
    for date in (d for d in range(panel.shape[0]) if d != 100):
        low, high = np.quantile(_valid(panel[date]), [0.05, 0.95])
        np.testing.assert_array_equal(_valid(clipped[date]), np.clip(_valid(panel[date]), low, high))


def test_zscore_equals_scipy_per_date(panel: np.ndarray) -> None:
    mask = ~np.isnan(panel)
    scores = zscore(panel, mask)
    for date in range(panel.shape[0]):
        values = _valid(panel[date])
        if values.size < 2 or np.ptp(values) == 0:
            assert np.isnan(scores[date]).all()
            continue
        np.testing.assert_allclose(_valid(scores[date]), stats.zscore(values), rtol=0, atol=1e-12)


def test_industry_demean_equals_a_pandas_groupby_per_date(panel: np.ndarray) -> None:
    industries = np.random.default_rng(3).integers(-1, 6, size=panel.shape[1])
    mask = ~np.isnan(panel)
    demeaned = industry_demean(panel, mask, industries)
    frame = pd.DataFrame(panel).stack().dropna().rename("value").rename_axis(["date", "stock"]).reset_index()
    frame = frame[industries[frame["stock"]] >= 0]
    frame["industry"] = industries[frame["stock"]]
    frame["value"] -= frame.groupby(["date", "industry"])["value"].transform("mean")
    expected = np.full(panel.shape, np.nan)
    expected[frame["date"], frame["stock"]] = frame["value"]
    np.testing.assert_allclose(demeaned, expected, rtol=0, atol=1e-12)
    assert np.isnan(demeaned[:, industries < 0]).all()
