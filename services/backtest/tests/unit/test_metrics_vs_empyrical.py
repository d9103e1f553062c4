"""The metrics agree with empyrical-reloaded to 1e-9 on real returns: 600000.SH close-to-close as the strategy,
the SSE Composite (000001.SH) as the benchmark, on their common trading days."""

from __future__ import annotations

from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import pytest

from zquant_backtest.domain import metrics
from zquant_kit.testing.paths import SHARED_DATA

pytestmark = pytest.mark.unit

DATA = SHARED_DATA
TOL = 1e-9


def _closes(path: Path) -> pd.Series:
    frame = pd.read_csv(path, usecols=["trade_date", "close"], dtype={"trade_date": str})
    return frame.set_index(pd.to_datetime(frame["trade_date"]))["close"]


@pytest.fixture(scope="module")
def series() -> tuple[pd.Series, pd.Series]:
    both = pd.concat(
        [_closes(DATA / "long" / "600000.SH.csv"), _closes(DATA / "index" / "000001.SH.csv")],
        axis=1,
        join="inner",
    )
    returns = both.pct_change().iloc[1:]
    return returns.iloc[:, 0], returns.iloc[:, 1]


def _close(ours: float, theirs: float) -> None:
    assert ours == pytest.approx(theirs, rel=TOL, abs=TOL)


def test_the_data_is_long_and_real(series: tuple[pd.Series, pd.Series]) -> None:
    strategy, benchmark = series
    assert len(strategy) > 5000 and strategy.abs().max() > 0.09 and benchmark.std() > 0.005


def test_returns_volatility_and_ratios(series: tuple[pd.Series, pd.Series]) -> None:
    r = series[0].to_numpy()
    _close(metrics.total_return(r), empyrical.cum_returns_final(r))
    _close(metrics.annual_return(r), empyrical.annual_return(r))
    _close(metrics.annual_volatility(r), empyrical.annual_volatility(r))
    for rf in (0.0, 0.0001):
        _close(metrics.sharpe_ratio(r, rf), empyrical.sharpe_ratio(r, risk_free=rf))
        _close(metrics.sortino_ratio(r, rf), empyrical.sortino_ratio(r, required_return=rf))
        _close(metrics.downside_risk(r, rf), empyrical.downside_risk(r, required_return=rf))


def test_drawdown_and_calmar(series: tuple[pd.Series, pd.Series]) -> None:
    r = series[0].to_numpy()
    dates = series[0].index.to_numpy().astype("datetime64[D]")
    drawdown = metrics.max_drawdown(r, dates)
    _close(drawdown.depth, empyrical.max_drawdown(r))
    _close(metrics.calmar_ratio(r, dates), empyrical.calmar_ratio(r))
    curve = (1 + series[0]).cumprod()
    assert drawdown.peak is not None and drawdown.trough is not None
    assert curve[drawdown.trough] / curve[drawdown.peak] - 1 == pytest.approx(drawdown.depth, abs=1e-12)
    assert curve[: drawdown.trough].max() == curve[drawdown.peak]
    if drawdown.recovery is not None:
        after = curve[drawdown.trough :]
        assert after.index[after >= curve[drawdown.peak]][0] == pd.Timestamp(drawdown.recovery)


def test_alpha_beta_and_active_risk(series: tuple[pd.Series, pd.Series]) -> None:
    r, b = series[0].to_numpy(), series[1].to_numpy()
    for rf in (0.0, 0.0001):
        theirs_alpha, theirs_beta = empyrical.alpha_beta(r, b, risk_free=rf)
        _close(metrics.beta(r, b), theirs_beta)
        _close(metrics.alpha(r, b, rf), theirs_alpha)
    _close(metrics.information_ratio(r, b) / np.sqrt(252), empyrical.excess_sharpe(r, b))
    _close(metrics.tracking_error(r, b), empyrical.annual_volatility(r - b))


def test_monthly_and_yearly_returns(series: tuple[pd.Series, pd.Series]) -> None:
    strategy = series[0]
    dates = strategy.index.to_numpy().astype("datetime64[D]")
    for unit, convert in (("M", "monthly"), ("Y", "yearly")):
        labels, ours = metrics.period_returns(strategy.to_numpy(), dates, unit)
        theirs = empyrical.aggregate_returns(strategy, convert)
        assert len(labels) == len(theirs)
        np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=TOL, atol=TOL)
