"""Factor analysis of one factor (issue 9 §5): our wall time next to alphalens-reloaded's on the
same seeded random panel, 4 horizons (1, 5, 10, 20), 5 quantiles.

alphalens' pipeline (clean factor and forward returns, Rank IC, mean return by quantile, turnover
of every quantile, rank autocorrelation) is too slow for 5000 × 2500 on this machine, so it runs on
the first ZQUANT_BENCH_ALPHALENS_STOCKS names (default 500) of the same panel, ours on the same
slice for the ratio, and ours again on the full panel. Size: ZQUANT_BENCH_STOCKS (5000) ×
ZQUANT_BENCH_DATES (2500); ZQUANT_BENCH_QUICK=1 shrinks everything for a smoke run.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import time
import warnings

import alphalens as al
import numpy as np
import pandas as pd

from zquant_factor.domain.analysis import AnalysisSettings, FactorAnalysis, analyse_factor

QUICK = os.environ.get("ZQUANT_BENCH_QUICK") == "1"
STOCKS = int(os.environ.get("ZQUANT_BENCH_STOCKS", 300 if QUICK else 5000))
DATES = int(os.environ.get("ZQUANT_BENCH_DATES", 250 if QUICK else 2500))
ALPHALENS_STOCKS = min(STOCKS, int(os.environ.get("ZQUANT_BENCH_ALPHALENS_STOCKS", 50 if QUICK else 500)))
HORIZONS = (1, 5, 10, 20)
QUANTILES = 5


def synthetic_market(dates: int, stocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random-walk hfq closes with 2% suspended days, and a factor with a little skill."""
    rng = np.random.default_rng(20260901)
    returns = rng.normal(0.0003, 0.02, size=(dates, stocks))
    close = 10.0 * np.exp(np.cumsum(returns, axis=0))
    close[rng.random(close.shape) < 0.02] = np.nan
    log_close = np.log(close / 10.0)
    next_week = np.zeros_like(returns)
    next_week[:-5] = np.nan_to_num(log_close[5:] - log_close[:-5])
    factor = next_week + rng.normal(0.0, 0.5, size=close.shape)
    factor[np.isnan(close)] = np.nan
    return factor, close


def time_ours(factor: np.ndarray, close: np.ndarray) -> tuple[float, FactorAnalysis]:
    settings = AnalysisSettings(horizons=HORIZONS, quantiles=QUANTILES)
    started = time.perf_counter()
    result = analyse_factor(factor, close, np.ones(factor.shape, dtype=bool), settings)
    return time.perf_counter() - started, result


def time_alphalens(factor: np.ndarray, close: np.ndarray) -> tuple[float, pd.DataFrame]:
    dates = pd.bdate_range("2015-01-05", periods=factor.shape[0])
    assets = [f"S{index:05d}" for index in range(factor.shape[1])]
    prices = pd.DataFrame(close, index=dates, columns=assets)
    stacked = pd.DataFrame(factor, index=dates, columns=assets).stack().dropna()
    stacked.index.names = ["date", "asset"]
    started = time.perf_counter()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        clean = al.utils.get_clean_factor_and_forward_returns(
            stacked, prices, quantiles=QUANTILES, periods=HORIZONS, max_loss=1.0
        )
        ic = al.performance.factor_information_coefficient(clean)
        al.performance.mean_return_by_quantile(clean, demeaned=False)
        for quantile in range(1, QUANTILES + 1):
            al.performance.quantile_turnover(clean["factor_quantile"], quantile, 1)
        al.performance.factor_rank_autocorrelation(clean, 1)
    return time.perf_counter() - started, ic


def main() -> None:
    factor, close = synthetic_market(DATES, STOCKS)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ours_full, full = time_ours(factor, close)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sliced = (factor[:, :ALPHALENS_STOCKS].copy(), close[:, :ALPHALENS_STOCKS].copy())
    theirs, their_ic = time_alphalens(*sliced)
    ours_sliced, our_slice = time_ours(*sliced)
    rows = np.flatnonzero(our_slice.observed.any(axis=1))[: len(their_ic)]
    agreement = np.nanmax(np.abs(our_slice.information.rank_ic[:, rows].T - their_ic.to_numpy()))
    panel_mb = factor.nbytes / 2**20
    print(
        f"factor analysis, {ALPHALENS_STOCKS} stocks × {DATES} dates, {len(HORIZONS)} horizons, {QUANTILES} quantiles:"
    )
    print(f"  alphalens-reloaded     {theirs:8.2f} s")
    print(
        f"  zquant                 {ours_sliced:8.2f} s   ({ours_sliced / theirs:.3f}× alphalens' time, "
        f"{theirs / ours_sliced:.0f}× faster; Rank IC max abs difference {agreement:.1e})"
    )
    print(
        f"factor analysis, {STOCKS} stocks × {DATES} dates (full size), zquant {ours_full:8.2f} s; "
        f"mean Rank IC 1D {full.information.rank_ic_summary.mean[0]:+.4f}, "
        f"peak RSS {peak / 1024:.0f} MB, {(peak - before) / 1024:.0f} MB above the inputs' "
        f"(one input panel is {panel_mb:.0f} MB)"
    )


if __name__ == "__main__":
    main()
