"""The run-based window kernels (BOLL, CCI, KDJ) against a per-stock reference on each stock's traded bars.

Panels with isolated and long suspensions, a stock that lists late and one that never trades, windows from 1 to
20 bars, and runs split at random rows (a split inside a suspension, inside the warm-up, one row at a time)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from zquant_factor.domain.indicators import oscillators, trend
from zquant_factor.domain.indicators.state import Computed


def _panel(seed: int, rows: int = 160, cols: int = 11) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 10.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (rows, cols)), axis=0))
    high, low = (
        close * (1 + rng.uniform(0, 0.02, close.shape)),
        close * (1 - rng.uniform(0, 0.02, close.shape)),
    )
    suspended = rng.random((rows, cols)) < 0.05
    suspended[40:75, 1] = True  # a long suspension
    suspended[:90, 2] = True  # lists late
    suspended[:, 3] = True  # never trades
    suspended[::2, 4] = True  # every other day
    low[5, 5] = np.nan  # one input missing suspends the row
    for panel in (high, low, close):
        panel[suspended] = np.nan
    return {"high": high, "low": low, "close": close}


def _per_stock(
    bars: dict[str, np.ndarray], n: int, reduce: object, inputs: tuple[str, ...]
) -> list[np.ndarray]:
    """Each output of `reduce(windows of high, low, close)` placed back on the rows where `inputs` all traded."""
    rows, cols = bars["close"].shape
    outputs: list[np.ndarray] = []
    for j in range(cols):
        traded = ~np.any([np.isnan(bars[name][:, j]) for name in inputs], axis=0)
        series = [bars[name][traded, j] for name in ("high", "low", "close")]
        if series[0].size < n:
            values: list[np.ndarray] = []
        else:
            values = reduce(*(sliding_window_view(s, n) for s in series))  # type: ignore[operator]
        for k, value in enumerate(values):
            if len(outputs) <= k:
                outputs.append(np.full((rows, cols), np.nan))
            outputs[k][np.flatnonzero(traded)[n - 1 :], j] = value
    return outputs


def _boll(n: int, ddof: int):  # type: ignore[no-untyped-def]
    def reduce(_h: np.ndarray, _l: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
        mean, std = c.mean(axis=1), c.std(axis=1, ddof=ddof)
        return [mean, mean + 2 * std, mean - 2 * std]

    return reduce


def _cci(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    tp = (h + lo + c) / 3
    mean = tp.mean(axis=1)
    deviation = np.abs(tp - mean[:, None]).mean(axis=1)
    return [np.divide(tp[:, -1] - mean, 0.015 * deviation, out=np.zeros_like(mean), where=deviation != 0)]


def _kdj(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    hh, ll = h.max(axis=1), lo.min(axis=1)
    rsv = np.where(hh == ll, 0.0, (c[:, -1] - ll) / np.where(hh == ll, 1, hh - ll) * 100)
    k, d = np.empty_like(rsv), np.empty_like(rsv)
    for t, value in enumerate(rsv):
        k[t] = value if t == 0 else (value + 2 * k[t - 1]) / 3
        d[t] = k[t] if t == 0 else (k[t] + 2 * d[t - 1]) / 3
    return [k, d, 3 * k - 2 * d]


CASES = {
    "boll": (lambda b, n, s: trend.boll(b["close"], n=n, state=s), lambda n: _boll(n, 0), ("mid", "upper", "lower")),
    "boll_sample": (
        lambda b, n, s: trend.boll(b["close"], n=max(n, 2), sample_std=True, state=s),
        lambda n: _boll(max(n, 2), 1),
        ("mid", "upper", "lower"),
    ),
    "cci": (lambda b, n, s: oscillators.cci(b["high"], b["low"], b["close"], n=n, state=s), lambda n: _cci, ("cci",)),
    "kdj": (
        lambda b, n, s: oscillators.kdj(b["high"], b["low"], b["close"], n=n, state=s),
        lambda n: _kdj,
        ("k", "d", "j"),
    ),
}  # fmt: skip


def _chunked(
    compute: object, bars: dict[str, np.ndarray], n: int, splits: list[int]
) -> dict[str, np.ndarray]:
    parts: list[Computed] = []
    state = None
    for start, stop in zip([0, *splits], [*splits, bars["close"].shape[0]], strict=True):
        part = compute({k: v[start:stop] for k, v in bars.items()}, n, state)  # type: ignore[operator]
        parts.append(part)
        state = part.state
    return {name: np.concatenate([p.values[name] for p in parts]) for name in parts[0].values}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("n", [1, 2, 5, 9, 20])
def test_windows_match_the_per_stock_reference_whole_and_chunked(name: str, n: int) -> None:
    compute, reference, outputs = CASES[name]
    bars = _panel(seed=n)
    inputs = ("close",) if name.startswith("boll") else ("high", "low", "close")
    expected = _per_stock(bars, max(n, 2) if name == "boll_sample" else n, reference(n), inputs)
    whole = compute(bars, n, None).values
    splits = [1, 3, 50, 60, 61, 62, 100, *range(140, 159)]
    chunked = _chunked(compute, bars, n, splits)
    for output, want in zip(outputs, expected, strict=True):
        got = whole[output]
        assert np.array_equal(np.isnan(got), np.isnan(want)), f"{name}.{output}: NaN pattern"
        assert np.nanmax(np.abs(got - want) / np.maximum(1.0, np.abs(want)), initial=0.0) <= 1e-9, output
        assert np.array_equal(np.isnan(chunked[output]), np.isnan(got)), (
            f"{name}.{output}: chunked NaN pattern"
        )
        assert np.nanmax(np.abs(chunked[output] - got), initial=0.0) <= 1e-9, f"{name}.{output}: chunked"


def test_running_moments_do_not_drift_over_a_long_series() -> None:
    """Thousands of replaces on prices far from zero that barely move: the running sum and m2 are retaken every N
    rows, so BOLL's bands stay on the two-pass reference to 1e-13 relative to the end (not retaken, they drift
    past 1e-12 here)."""
    bars = _panel(seed=11, rows=6000, cols=6)
    bars = {name: 1000.0 + 0.01 * panel for name, panel in bars.items()}
    for name in ("boll", "boll_sample"):
        compute, reference, outputs = CASES[name]
        expected = _per_stock(bars, 20, reference(20), ("close",))
        got = compute(bars, 20, None).values
        for output, want in zip(outputs, expected, strict=True):
            assert np.array_equal(np.isnan(got[output]), np.isnan(want)), f"{name}.{output}: NaN pattern"
            error = np.nanmax(np.abs(got[output] - want) / np.maximum(1.0, np.abs(want)), initial=0.0)
            assert error <= 1e-13, f"{name}.{output}: {error}"
