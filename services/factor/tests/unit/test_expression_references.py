"""Custom expressions against independent references: pandas rolling windows and EWM on each stock's own
gap-free series, scipy's rankdata and zscore per date, on a random panel with suspensions and late listings,
and on the real series of shared/data (two long histories and four banks on one calendar)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

from zquant_factor.domain.expressions import CheckedExpression
from zquant_kit.testing.paths import SHARED_DATA

pytestmark = pytest.mark.unit

Reference = Callable[[pd.Series], pd.Series]

SERIES_REFERENCES: list[tuple[str, Reference]] = [
    ("ref(close, 3)", lambda s: s.shift(3)),
    ("delta(close, 2)", lambda s: s - s.shift(2)),
    ("ma(close, 5)", lambda s: s.rolling(5).mean()),
    ("sum(close, 4)", lambda s: s.rolling(4).sum()),
    ("std(close, 6)", lambda s: s.rolling(6).std()),
    ("max(close, 7)", lambda s: s.rolling(7).max()),
    ("min(close, 7)", lambda s: s.rolling(7).min()),
    ("ts_rank(close, 5)", lambda s: s.rolling(5).rank(pct=True)),
    ("ema(close, 9)", lambda s: s.ewm(span=9, adjust=False).mean()),
    ("ma(delta(close, 1), 3)", lambda s: s.diff().rolling(3).mean()),
]


def random_panel(rows: int = 90, stocks: int = 7, seed: int = 7) -> dict[str, np.ndarray]:
    """Prices with ties (rounded to 0.1), ~15% suspended days, one stock listed late and one delisted early."""
    rng = np.random.default_rng(seed)
    close = np.round(20 * np.exp(np.cumsum(rng.normal(0, 0.02, (rows, stocks)), axis=0)), 1)
    vol = rng.lognormal(10, 1, (rows, stocks))
    suspended = rng.random((rows, stocks)) < 0.15
    suspended[:30, 0] = True
    suspended[60:, 1] = True
    close[suspended] = np.nan
    vol[suspended] = np.nan
    vol[rng.random((rows, stocks)) < 0.05] = np.nan  # a missing volume alone: the pair is not valid that day
    return {"close": close, "vol": vol}


def per_stock(panel: np.ndarray, reference: Reference) -> np.ndarray:
    """`reference` on each stock's valid values, put back on the full calendar (NaN on the others)."""
    out = np.full_like(panel, np.nan)
    for j in range(panel.shape[1]):
        valid = ~np.isnan(panel[:, j])
        out[valid, j] = reference(pd.Series(panel[valid, j])).to_numpy()
    return out


def evaluate(source: str, panel: dict[str, np.ndarray]) -> np.ndarray:
    return CheckedExpression.parse(source).evaluate(panel)


@pytest.mark.parametrize(
    ("source", "reference"), SERIES_REFERENCES, ids=[case[0] for case in SERIES_REFERENCES]
)
def test_time_series_functions_equal_pandas_on_each_stocks_valid_bars(
    source: str, reference: Reference
) -> None:
    panel = random_panel()
    np.testing.assert_allclose(
        evaluate(source, panel), per_stock(panel["close"], reference), rtol=1e-12, atol=1e-12, equal_nan=True
    )


def pandas_corr(x: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
    out = np.full_like(x, np.nan)
    for j in range(x.shape[1]):
        pair = ~(np.isnan(x[:, j]) | np.isnan(y[:, j]))
        out[pair, j] = pd.Series(x[pair, j]).rolling(n).corr(pd.Series(y[pair, j])).to_numpy()
    return out


def two_pass_corr(x: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
    """Each window's Pearson correlation from its own means: the exact reference pandas' online sums approach."""
    out = np.full_like(x, np.nan)
    for j in range(x.shape[1]):
        pair = np.flatnonzero(~(np.isnan(x[:, j]) | np.isnan(y[:, j])))
        if pair.size < n:
            continue
        xs, ys = sliding_window_view(x[pair, j], n), sliding_window_view(y[pair, j], n)
        dx, dy = xs - xs.mean(axis=1, keepdims=True), ys - ys.mean(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[pair[n - 1 :], j] = (dx * dy).sum(axis=1) / np.sqrt(
                (dx * dx).sum(axis=1) * (dy * dy).sum(axis=1)
            )
    return out


@pytest.mark.parametrize("n", [2, 5, 10])
def test_ts_corr_equals_pandas_rolling_corr_over_the_days_both_are_valid(n: int) -> None:
    panel = random_panel()
    ours = evaluate(f"ts_corr(close, vol, {n})", panel)
    np.testing.assert_allclose(
        ours, pandas_corr(panel["close"], panel["vol"], n), rtol=0, atol=1e-9, equal_nan=True
    )
    np.testing.assert_allclose(
        ours, two_pass_corr(panel["close"], panel["vol"], n), rtol=0, atol=1e-13, equal_nan=True
    )


def test_cross_sectional_functions_equal_scipy_per_date() -> None:
    panel = random_panel()
    close = panel["close"]
    ranks, zscores, demeaned = (evaluate(f"{name}(close)", panel) for name in ("rank", "zscore", "demean"))
    for i in range(close.shape[0]):
        valid = ~np.isnan(close[i])
        assert np.isnan(ranks[i, ~valid]).all()
        row = close[i, valid]
        np.testing.assert_allclose(ranks[i, valid], stats.rankdata(row) / row.size, rtol=0, atol=1e-15)
        np.testing.assert_allclose(zscores[i, valid], stats.zscore(row), rtol=0, atol=1e-12)
        np.testing.assert_allclose(demeaned[i, valid], row - row.mean(), rtol=0, atol=1e-12)


def test_the_issue_example_equals_its_pandas_composition() -> None:
    panel = random_panel()
    ratio = panel["close"] / per_stock(panel["close"], lambda s: s.rolling(20).mean())
    expected = pd.DataFrame(ratio).rank(axis=1, pct=True).to_numpy()
    np.testing.assert_allclose(
        evaluate("rank(close / ma(close, 20))", panel), expected, atol=1e-15, equal_nan=True
    )


@pytest.fixture(scope="module")
def real_panel() -> dict[str, np.ndarray]:
    """close and vol of 600000.SH (1999–2025), 002032.SZ (2004–2016) and four banks (2019–2023), one calendar."""
    frames = [pd.read_csv(SHARED_DATA / "long" / name) for name in ("600000.SH.csv", "002032.SZ.csv")]
    frames.append(pd.read_csv(SHARED_DATA / "a_share" / "daily.csv"))
    bars = pd.concat(frames)
    return {
        field: bars.pivot(index="trade_date", columns="ts_code", values=field).sort_index().to_numpy()
        for field in ("close", "vol")
    }


REAL_TOLERANCE = {"std(close, 6)": 1e-7}
"""The engine's rolling std keeps running Welford sums: over ~1100 bars of a flat 3-yuan bank they drift to
8e-8 from a two-pass std (pandas stays within 1e-12 there); that bound is the indicator engine's to own."""


def test_real_series_time_series_functions_equal_pandas(real_panel: dict[str, np.ndarray]) -> None:
    assert np.isnan(real_panel["close"]).mean() > 0.5  # most of the calendar is outside some stock's life
    for source, reference in SERIES_REFERENCES:
        tolerance = REAL_TOLERANCE.get(source, 1e-11)
        np.testing.assert_allclose(
            evaluate(source, real_panel),
            per_stock(real_panel["close"], reference),
            rtol=0,
            atol=tolerance,
            equal_nan=True,
            err_msg=source,
        )


@pytest.mark.parametrize("n", [3, 10, 60])
def test_real_series_ts_corr_is_exact_and_within_pandas_rounding(
    real_panel: dict[str, np.ndarray], n: int
) -> None:
    close, vol = real_panel["close"], real_panel["vol"]
    ours = evaluate(f"ts_corr(close, vol, {n})", real_panel)
    exact = two_pass_corr(close, vol, n)
    finite = np.isfinite(exact) & ~np.isnan(ours)
    np.testing.assert_allclose(ours[finite], exact[finite], rtol=0, atol=1e-13)
    # pandas keeps online sums: on flat real prices it drifts by ~1e-8 at short windows, never more than 1e-7
    np.testing.assert_allclose(ours, pandas_corr(close, vol, n), rtol=0, atol=1e-7, equal_nan=True)


def test_real_banks_cross_section_equals_scipy(real_panel: dict[str, np.ndarray]) -> None:
    change = evaluate("close / ref(close, 1) - 1", real_panel)
    ranks = evaluate("rank(close / ref(close, 1) - 1)", real_panel)
    zscores = evaluate("zscore(close / ref(close, 1) - 1)", real_panel)
    dates_checked = 0
    for i in range(change.shape[0]):
        valid = ~np.isnan(change[i])
        if valid.sum() < 3:
            continue
        row = change[i, valid]
        np.testing.assert_allclose(ranks[i, valid], stats.rankdata(row) / row.size, atol=1e-15)
        if np.ptp(row) > 0:
            np.testing.assert_allclose(zscores[i, valid], stats.zscore(row), atol=1e-9)
        dates_checked += 1
    assert dates_checked > 1000
