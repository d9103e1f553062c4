"""Resuming from saved state equals one full pass (≤ 1e-9), on the real 2-stock panel with suspensions.

Each recursive indicator is run once over the whole panel, then chunk by chunk (split points inside warm-up,
on suspended rows and late in the series) and for the last days one row at a time, its state passed through
`state_to_bytes`/`state_from_bytes` at every boundary as the service would store it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from services.factor.tests.unit.indicator_bars import panel
from zquant_factor.domain.indicators import oscillators, trend, volume
from zquant_factor.domain.indicators.state import Computed, State, state_from_bytes, state_to_bytes

pytestmark = pytest.mark.unit

Run = Callable[[dict[str, np.ndarray], State | None], Computed]

RUNS: dict[str, Run] = {
    "ema": lambda b, s: trend.ema(b["close"], n=12, state=s),
    "macd": lambda b, s: trend.macd(b["close"], state=s),
    "kdj": lambda b, s: oscillators.kdj(b["high"], b["low"], b["close"], state=s),
    "rsi6": lambda b, s: oscillators.rsi(b["close"], n=6, state=s),
    "rsi24": lambda b, s: oscillators.rsi(b["close"], n=24, state=s),
    "boll": lambda b, s: trend.boll(b["close"], state=s),
    "cci": lambda b, s: oscillators.cci(b["high"], b["low"], b["close"], state=s),
    "atr": lambda b, s: volume.atr(b["high"], b["low"], b["close"], state=s),
    "obv": lambda b, s: volume.obv(b["close"], b["vol"], state=s),
}


def _in_chunks(run: Run, bars: dict[str, np.ndarray], bounds: list[int]) -> dict[str, np.ndarray]:
    parts: list[dict[str, np.ndarray]] = []
    state: State | None = None
    for lo, hi in itertools.pairwise(bounds):
        result = run({field: arr[lo:hi] for field, arr in bars.items()}, state)
        parts.append(result.values)
        state = state_from_bytes(state_to_bytes(result.state))
    return {name: np.vstack([part[name] for part in parts]) for name in parts[0]}


@pytest.fixture(scope="module")
def bars() -> dict[str, np.ndarray]:
    return panel()


def _split_points(bars: dict[str, np.ndarray]) -> list[int]:
    rows = len(bars["close"])
    suspended = int(np.flatnonzero(np.isnan(bars["close"][:, 0]))[2])  # a day 600000.SH did not trade
    return sorted({0, 1, 5, 30, suspended, suspended + 1, rows // 2, rows - 40, rows})


@pytest.mark.parametrize("name", RUNS)
def test_chunked_runs_equal_one_full_pass(name: str, bars: dict[str, np.ndarray]) -> None:
    run = RUNS[name]
    full = run(bars, None).values
    rows = len(bars["close"])
    day_by_day = [*_split_points(bars)[:-1], *range(rows - 39, rows + 1)]
    chunked = _in_chunks(run, bars, sorted(set(day_by_day)))
    for output, values in full.items():
        assert np.array_equal(np.isnan(values), np.isnan(chunked[output])), (
            f"{name}.{output}: NaN pattern differs"
        )
        assert np.nanmax(np.abs(values - chunked[output])) <= 1e-9, f"{name}.{output}"


def test_state_is_plain_arrays_one_row_per_stock(bars: dict[str, np.ndarray]) -> None:
    state = oscillators.kdj(bars["high"], bars["low"], bars["close"]).state
    assert {name: arr.shape for name, arr in state.items()} == {
        "high_tail": (8, 2),
        "low_tail": (8, 2),
        "k": (2,),
        "d": (2,),
    }
    assert all(arr.dtype == np.float64 for arr in state_from_bytes(state_to_bytes(state)).values())
