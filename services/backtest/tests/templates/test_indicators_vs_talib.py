"""The MACD and RSI the templates trade on are TA-Lib's: the templates' day-by-day updates, fed a real series
(601398.SH's closes, 2019 … 2023) one close at a time, give TA-Lib's values on the whole series; a suspended day
(NaN) is skipped, as TA-Lib on the series without it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import talib

from zquant_backtest.adapters.templates import PackagedTemplateCatalog
from zquant_backtest.domain.market import MarketPanel

from .conftest import module_of, template_of

pytestmark = pytest.mark.unit

Series = np.ndarray


@pytest.fixture(scope="module")
def closes(bank_panel: MarketPanel) -> Series:
    series = bank_panel.close[:, bank_panel.codes.index("601398.SH")]
    assert np.isfinite(series).all() and series.size > 1000
    return series


def _daily(step: Callable[[Series], tuple[Series, ...]], closes: Series) -> list[Series]:
    """Each output of ``step`` over the series, one column of two codes per day: the series, and the same
    series with a suspended day at index 300."""
    suspended = closes.copy()
    suspended[300] = np.nan
    days = [step(np.array([a, b])) for a, b in zip(closes, suspended, strict=True)]
    return [np.array([day[k] for day in days]) for k in range(len(days[0]))]


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5)])
def test_macd_is_talibs(catalog: PackagedTemplateCatalog, closes: Series, fast: int, slow: int, signal: int) -> None:
    module = module_of(template_of(catalog, "macd_cross"))
    state = module.macd_state(2, slow)
    outputs = _daily(lambda day: module.macd_step(state, day, fast, slow, signal), closes)
    kept = np.delete(closes, 300)
    for ours, theirs, skipping in zip(outputs, talib.MACD(closes, fast, slow, signal),
                                      talib.MACD(kept, fast, slow, signal), strict=True):  # fmt: skip
        np.testing.assert_allclose(ours[:, 0], theirs, rtol=0, atol=1e-10)
        np.testing.assert_allclose(np.delete(ours[:, 1], 300), skipping, rtol=0, atol=1e-10)
        assert np.isnan(ours[300, 1])
    assert np.count_nonzero(np.isnan(outputs[0][:, 0])) == slow + signal - 2


@pytest.mark.parametrize("n", [6, 14])
def test_rsi_is_talibs(catalog: PackagedTemplateCatalog, closes: Series, n: int) -> None:
    module = module_of(template_of(catalog, "rsi_mean_reversion"))
    state = module.rsi_state(2)
    (ours,) = _daily(lambda day: (module.rsi_step(state, day, n),), closes)
    np.testing.assert_allclose(ours[:, 0], talib.RSI(closes, n), rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.delete(ours[:, 1], 300), talib.RSI(np.delete(closes, 300), n), rtol=0, atol=1e-9)
    assert np.isnan(ours[300, 1])
    assert np.nanmin(ours[:, 0]) < 30 < 70 < np.nanmax(ours[:, 0])  # the real series crosses both default levels


def test_a_flat_series_has_rsi_zero_as_talib(catalog: PackagedTemplateCatalog) -> None:
    module = module_of(template_of(catalog, "rsi_mean_reversion"))
    state = module.rsi_state(1)
    flat = np.full(30, 5.0)
    ours = np.array([module.rsi_step(state, np.array([close]), 6)[0] for close in flat])
    np.testing.assert_array_equal(ours, talib.RSI(flat, 6))
