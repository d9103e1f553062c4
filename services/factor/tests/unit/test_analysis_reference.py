"""Factor analysis checked against scipy and alphalens-reloaded on real A-share prices.

Two real panels: 2019–2023 with the four banks (hfq close = close × adj_factor), 600000.SH and
the SSE Composite (six names, five quantiles); 2004–2010 with 002032.SZ, 600000.SH and the SSE
Composite (three names, three quantiles; real suspensions). The factor is 20-day momentum.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import alphalens as al
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from zquant_factor.domain.analysis import AnalysisSettings, FactorAnalysis, analyse_factor
from zquant_kit.testing import SHARED_DATA

pytestmark = pytest.mark.unit

HORIZONS = (1, 5, 10, 20)
TOLERANCE = 1e-9


def _closes(path: str) -> pd.DataFrame:
    frame = pd.read_csv(SHARED_DATA / path, dtype={"trade_date": str})
    return frame.pivot(index="trade_date", columns="ts_code", values="close")


def _bank_hfq_closes() -> pd.DataFrame:
    daily = pd.read_csv(SHARED_DATA / "a_share/daily.csv", dtype={"trade_date": str})
    factors = pd.read_csv(SHARED_DATA / "a_share/adj_factor.csv", dtype={"trade_date": str})
    merged = daily.merge(factors, on=["ts_code", "trade_date"])
    merged["hfq_close"] = merged["close"] * merged["adj_factor"]
    return merged.pivot(index="trade_date", columns="ts_code", values="hfq_close")


def _panel(parts: list[pd.DataFrame], start: str, end: str) -> pd.DataFrame:
    """Union of the parts' trading dates within [start, end]; a name missing a date is suspended."""
    panel = pd.concat(parts, axis=1).sort_index().loc[start:end]
    panel.index = pd.to_datetime(panel.index, format="%Y%m%d")
    return panel.astype(np.float64)


def _banks_panel() -> pd.DataFrame:
    extra = [_closes("long/600000.SH.csv"), _closes("index/000001.SH.csv")]
    return _panel([_bank_hfq_closes(), *extra], "20190102", "20230829")


def _consumer_panel() -> pd.DataFrame:
    parts = [_closes("long/002032.SZ.csv"), _closes("long/600000.SH.csv"), _closes("index/000001.SH.csv")]
    return _panel(parts, "20040817", "20101231")


PANELS = {"banks-2019": (_banks_panel, 5), "consumer-2004": (_consumer_panel, 3)}


def _momentum(closes: pd.DataFrame) -> pd.DataFrame:
    values = closes.to_numpy()
    momentum = np.full(values.shape, np.nan)
    momentum[20:] = values[20:] / values[:-20] - 1.0
    return pd.DataFrame(momentum, index=closes.index, columns=closes.columns)


@pytest.fixture(scope="module", params=sorted(PANELS))
def case(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, pd.DataFrame, FactorAnalysis, pd.DataFrame]:
    load, quantiles = PANELS[request.param]
    closes = load()
    factor = _momentum(closes)
    universe = np.ones(closes.shape, dtype=bool)
    settings = AnalysisSettings(horizons=HORIZONS, quantiles=quantiles)
    ours = analyse_factor(factor.to_numpy(), closes.to_numpy(), universe, settings)
    stacked = factor.stack().dropna()
    stacked.index.names = ["date", "asset"]
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        clean = al.utils.get_clean_factor_and_forward_returns(
            stacked, closes, quantiles=quantiles, periods=HORIZONS, max_loss=1.0
        )
    return closes, factor, ours, clean


def _rows(closes: pd.DataFrame, dates: pd.Index) -> np.ndarray:
    return closes.index.get_indexer(dates)


def _return_columns(clean: pd.DataFrame) -> list[str]:
    return list(al.utils.get_forward_returns_columns(clean.columns))


def test_the_panels_have_enough_dates(case) -> None:
    _, _, ours, _ = case
    assert np.count_nonzero(ours.observed.any(axis=1)) > 1000


def test_the_2004_panel_has_suspensions_between_listing_and_delisting() -> None:
    closes = _consumer_panel()
    listed = closes.ffill().notna() & closes.bfill().notna()
    assert (listed & closes.isna()).to_numpy().sum() > 20


def _unbucketed_dates(ours: FactorAnalysis) -> np.ndarray:
    """Observed dates whose quantile edges repeat: alphalens drops them whole, we keep their IC."""
    return ours.observed.any(axis=1) & ~(ours.quantiles.labels != 0).any(axis=1)


def test_bucketed_pairs_are_alphalens_clean_factor_data(case) -> None:
    closes, _, ours, clean = case
    dates = clean.index.get_level_values("date")
    assets = closes.columns.get_indexer(clean.index.get_level_values("asset"))
    expected = np.zeros(ours.observed.shape, dtype=bool)
    expected[_rows(closes, dates), assets] = True
    np.testing.assert_array_equal(ours.observed & (ours.quantiles.labels != 0), expected)
    unbucketed = _unbucketed_dates(ours)
    np.testing.assert_array_equal(expected.any(axis=1), ours.observed.any(axis=1) & ~unbucketed)


def test_quantile_labels_are_alphalens_qcut_buckets(case) -> None:
    closes, _, ours, clean = case
    rows = _rows(closes, clean.index.get_level_values("date"))
    assets = closes.columns.get_indexer(clean.index.get_level_values("asset"))
    np.testing.assert_array_equal(ours.quantiles.labels[rows, assets], clean["factor_quantile"].to_numpy())


def test_rank_ic_is_defined_on_alphalens_dates_and_unbucketed_ones(case) -> None:
    closes, _, ours, clean = case
    defined = np.isfinite(ours.information.rank_ic).any(axis=0)
    defined[_rows(closes, clean.index.get_level_values("date").unique())] = False
    assert np.all(_unbucketed_dates(ours)[defined])


def test_rank_ic_matches_alphalens_per_date(case) -> None:
    closes, _, ours, clean = case
    every_third_date = clean.index.get_level_values("date").unique()[::3]
    expected = al.performance.factor_information_coefficient(clean.loc[every_third_date]).dropna(how="all")
    rows = _rows(closes, expected.index)
    for row, column in enumerate(_return_columns(clean)):
        np.testing.assert_allclose(
            ours.information.rank_ic[row, rows], expected[column], rtol=0, atol=TOLERANCE
        )
    assert len(rows) > 300


def test_ic_and_rank_ic_match_scipy_per_date(case) -> None:
    closes, factor, ours, _ = case
    held = closes.ffill().to_numpy()
    values = factor.to_numpy()
    checked = 0
    for row, horizon in enumerate(HORIZONS):
        for date in np.flatnonzero(ours.observed.sum(axis=1) >= 3)[::7]:
            names = ours.observed[date]
            returns = held[date + horizon, names] / closes.to_numpy()[date, names] - 1.0
            pearson = stats.pearsonr(values[date, names], returns).statistic
            spearman = stats.spearmanr(values[date, names], returns).statistic
            assert abs(ours.information.ic[row, date] - pearson) <= TOLERANCE
            assert abs(ours.information.rank_ic[row, date] - spearman) <= TOLERANCE
            checked += 1
    assert checked > 400


def test_ic_summary_matches_a_one_sample_t_test(case) -> None:
    _, _, ours, _ = case
    for summary, series in (
        (ours.information.ic_summary, ours.information.ic),
        (ours.information.rank_ic_summary, ours.information.rank_ic),
    ):
        for row in range(len(HORIZONS)):
            defined = series[row][np.isfinite(series[row])]
            assert summary.dates[row] == defined.size
            assert summary.mean[row] == pytest.approx(defined.mean(), abs=1e-12)
            assert summary.std[row] == pytest.approx(defined.std(ddof=1), abs=1e-12)
            assert summary.ir[row] == pytest.approx(defined.mean() / defined.std(ddof=1), abs=1e-12)
            assert summary.t_stat[row] == pytest.approx(stats.ttest_1samp(defined, 0.0).statistic, abs=1e-9)


@pytest.mark.parametrize("demeaned", [False, True])
def test_mean_quantile_returns_match_alphalens(case, demeaned: bool) -> None:
    _, _, ours, clean = case
    expected, _ = al.performance.mean_return_by_quantile(clean, demeaned=demeaned)
    mine = ours.quantiles.mean_excess if demeaned else ours.quantiles.mean
    for row, column in enumerate(_return_columns(clean)):
        np.testing.assert_allclose(mine[row], expected[column].to_numpy(), rtol=0, atol=TOLERANCE)


def test_long_short_spread_is_twice_alphalens_half_book_spread(case) -> None:
    """alphalens 0.5.1 halves top − bottom (a 100% gross book); ours is the plain difference."""
    closes, _, ours, clean = case
    by_date, _ = al.performance.mean_return_by_quantile(clean, by_date=True, demeaned=False)
    top = int(clean["factor_quantile"].max())
    spread, _ = al.performance.compute_mean_returns_spread(by_date, top, 1)
    rows = _rows(closes, spread.index)
    for row, column in enumerate(_return_columns(clean)):
        np.testing.assert_allclose(
            ours.quantiles.spread[row, rows], 2.0 * spread[column], rtol=0, atol=TOLERANCE
        )


def test_turnover_matches_alphalens(case) -> None:
    closes, _, ours, clean = case
    for quantile in range(1, ours.quantile_count + 1):
        expected = al.performance.quantile_turnover(clean["factor_quantile"], quantile, 1).dropna()
        rows = _rows(closes, expected.index)
        np.testing.assert_allclose(
            ours.turnover.by_quantile[quantile - 1, rows], expected, rtol=0, atol=TOLERANCE
        )


def test_rank_autocorrelation_matches_alphalens(case) -> None:
    closes, _, ours, clean = case
    expected = al.performance.factor_rank_autocorrelation(clean, 1).dropna()
    rows = _rows(closes, expected.index)
    unbucketed = _unbucketed_dates(ours)
    comparable = ~unbucketed[rows] & ~unbucketed[rows - 1]
    expected, rows = expected[comparable], rows[comparable]
    np.testing.assert_allclose(ours.turnover.rank_autocorrelation[rows], expected, rtol=0, atol=TOLERANCE)
