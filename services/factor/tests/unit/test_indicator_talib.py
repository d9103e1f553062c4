"""The indicator set against TA-Lib on real bars (../shared/data/long/), after warm-up: max abs diff ≤ 1e-6.

TA-Lib seeds its EMAs with an SMA of the first N values where TDX seeds with the first value; the difference
decays geometrically, hence the long warm-up. Each stock is checked on its own series and inside a 2-stock
panel on the union of dates, where its suspended days are NaN rows the engine must skip.
"""

from __future__ import annotations

import numpy as np
import pytest
import talib

from services.factor.tests.unit.indicator_bars import CODES, panel, series
from zquant_factor.domain.indicators import oscillators, trend

pytestmark = pytest.mark.unit

WARM_UP = 500  # bars; ≥ 250 for MACD and KDJ, ≥ 500 for RSI(24)
TOLERANCE = 1e-6

Bars = dict[str, np.ndarray]


def _ours(bars: Bars) -> dict[str, np.ndarray]:
    h, lo, c = bars["high"], bars["low"], bars["close"]
    kdj = oscillators.kdj(h, lo, c).values
    boll = trend.boll(c, n=20, width=2).values
    out = {
        "macd": trend.macd(c).values["macd"],
        "k": kdj["k"],
        "d": kdj["d"],
        "boll_upper": boll["upper"],
        "boll_mid": boll["mid"],
        "boll_lower": boll["lower"],
        "cci": oscillators.cci(h, lo, c, n=14).values["cci"],
    }
    for n in (6, 12, 24):
        out[f"rsi{n}"] = oscillators.rsi(c, n=n).values["rsi"]
    return out


def _talib(bars: Bars) -> dict[str, np.ndarray]:
    h, lo, c = bars["high"], bars["low"], bars["close"]
    slowk, slowd = talib.STOCH(h, lo, c, 9, 5, talib.MA_Type.EMA, 5, talib.MA_Type.EMA)
    upper, mid, lower = talib.BBANDS(c, 20, 2, 2)
    out = {
        "macd": 2 * talib.MACD(c, 12, 26, 9)[2],
        "k": slowk,
        "d": slowd,
        "boll_upper": upper,
        "boll_mid": mid,
        "boll_lower": lower,
        "cci": talib.CCI(h, lo, c, 14),
    }
    for n in (6, 12, 24):
        out[f"rsi{n}"] = talib.RSI(c, n)
    return out


def _series_bars(code: str) -> Bars:
    frame = series(code)
    return {field: frame[field].to_numpy(float) for field in ("high", "low", "close")}


NAMES = ["macd", "k", "d", "boll_upper", "boll_mid", "boll_lower", "cci", "rsi6", "rsi12", "rsi24"]


@pytest.fixture(scope="module")
def references() -> dict[str, dict[str, np.ndarray]]:
    return {code: _talib(_series_bars(code)) for code in CODES}


@pytest.mark.parametrize("code", CODES)
def test_each_series_matches_talib(code: str, references: dict[str, dict[str, np.ndarray]]) -> None:
    ours = _ours(_series_bars(code))
    for name in NAMES:
        diff = np.abs(ours[name][WARM_UP:] - references[code][name][WARM_UP:])
        assert np.nanmax(diff) <= TOLERANCE, f"{code} {name}: {np.nanmax(diff)}"
        assert not np.isnan(ours[name][WARM_UP:]).any(), f"{code} {name} has NaN after warm-up"


def test_a_panel_with_suspensions_matches_talib_per_stock(
    references: dict[str, dict[str, np.ndarray]],
) -> None:
    bars = panel()
    ours = _ours({field: bars[field] for field in ("high", "low", "close")})
    for col, code in enumerate(CODES):
        traded = ~np.isnan(bars["close"][:, col])
        assert traded.sum() == len(series(code))
        for name in NAMES:
            column = ours[name][:, col]
            assert np.isnan(column[~traded]).all(), f"{code} {name} has values on days it did not trade"
            diff = np.abs(column[traded][WARM_UP:] - references[code][name][WARM_UP:])
            assert np.nanmax(diff) <= TOLERANCE, f"{code} {name} in the panel: {np.nanmax(diff)}"


def test_the_600000_series_really_has_suspensions() -> None:
    assert np.isnan(panel()["close"][:, 0]).sum() > 50
