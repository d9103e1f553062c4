"""Hand-computed cases for the indicator set: warm-up, suspended days skipped, flat windows, the small cross."""

from __future__ import annotations

import numpy as np
import pytest

from zquant_factor.domain.indicators import activity, oscillators, trend, volume
from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter

pytestmark = pytest.mark.unit

NAN = np.nan


def close(a: np.ndarray, b: list[float]) -> None:
    np.testing.assert_allclose(a, np.array(b), rtol=0, atol=1e-12, equal_nan=True)


def test_macd_is_twice_dif_minus_dea_and_skips_a_suspension() -> None:
    c = np.array([10.0, 11.0, NAN, 12.0])
    out = trend.macd(c, fast=1, slow=3, signal=1).values  # EMA(1) is the close itself, EMA(3) has α = 1/2
    close(out["dif"], [0.0, 11 - 10.5, NAN, 12 - 11.25])
    close(out["dea"], out["dif"].tolist())  # signal 1: DEA = DIF
    close(out["macd"], [0.0, 0.0, NAN, 0.0])
    seeded = trend.macd(c, fast=1, slow=3, signal=3).values
    # DEA: 0 → 0.5·0.5 + 0.5·0 = 0.25 → 0.5·0.75 + 0.5·0.25 = 0.5; MACD = 2 × (DIF − DEA)
    close(seeded["macd"], [0.0, 2 * (0.5 - 0.25), NAN, 2 * (0.75 - 0.5)])


def test_kdj_warms_up_on_valid_bars_and_seeds_k_d_with_the_first_rsv() -> None:
    h = np.array([10.0, 12.0, NAN, 11.0, 13.0])
    lo = np.array([8.0, 9.0, NAN, 9.0, 10.0])
    c = np.array([9.0, 11.0, NAN, 10.0, 12.0])
    out = oscillators.kdj(h, lo, c, n=3, m1=3, m2=3).values
    # first full window at row 3: HHV 12, LLV 8, RSV = (10 − 8)/4 × 100 = 50 → K = D = J = 50
    # row 4: HHV 13, LLV 9, RSV = 75; K = 50 + (75 − 50)/3, D = 50 + (K − 50)/3
    k4 = 50 + 25 / 3
    d4 = 50 + (k4 - 50) / 3
    close(out["k"], [NAN, NAN, NAN, 50.0, k4])
    close(out["d"], [NAN, NAN, NAN, 50.0, d4])
    close(out["j"], [NAN, NAN, NAN, 50.0, 3 * k4 - 2 * d4])


def test_a_flat_kdj_window_gives_zero_rsv() -> None:
    flat = np.full(4, 5.0)
    close(oscillators.kdj(flat, flat, flat, n=2).values["k"], [NAN, 0.0, 0.0, 0.0])


def test_rsi_measures_moves_from_the_previous_traded_close() -> None:
    c = np.array([10.0, 11.0, NAN, NAN, 10.0, 12.0])
    # ΔC: +1, (suspended), −1 (10 against 11), +2; α = 1/2 — up: 1, 0.5, 1.25; |ΔC|: 1, 1, 1.5
    close(oscillators.rsi(c, n=2).values["rsi"], [NAN, 100.0, NAN, NAN, 50.0, 1.25 / 1.5 * 100])


def test_boll_population_and_sample_std() -> None:
    c = np.array([1.0, NAN, 2.0, 3.0])
    pop = trend.boll(c, n=3, width=2).values
    close(pop["mid"], [NAN, NAN, NAN, 2.0])
    close(pop["upper"], [NAN, NAN, NAN, 2 + 2 * np.sqrt(2 / 3)])
    sample = trend.boll(c, n=3, width=1, sample_std=True).values
    close(sample["lower"], [NAN, NAN, NAN, 1.0])


def test_cci_uses_mean_absolute_deviation_and_0_015() -> None:
    tp = np.array([1.0, 2.0, NAN, 6.0])  # H = L = C, so TP is the price
    # window {1, 2, 6}: mean 3, mean abs deviation (2 + 1 + 3)/3 = 2 → (6 − 3) / (0.015 × 2) = 100
    close(oscillators.cci(tp, tp, tp, n=3).values["cci"], [NAN, NAN, NAN, 100.0])


def test_atr_uses_the_previous_traded_close_and_obv_adds_signed_volume() -> None:
    h = np.array([10.0, 11.0, NAN, 15.0])
    lo = np.array([9.0, 10.0, NAN, 14.0])
    c = np.array([9.5, 10.5, NAN, 14.5])
    # TR: 1 (first bar, H − L), max(1, 1.5, 0.5) = 1.5, (suspended), max(1, 4.5, 3.5) = 4.5
    close(volume.atr(h, lo, c, n=2).values["atr"], [NAN, 1.25, NAN, 3.0])
    v = np.array([100.0, 200.0, NAN, 50.0])
    close(volume.obv(np.array([9.5, 9.0, NAN, 9.0]), v).values["obv"], [0.0, -200.0, NAN, -200.0])


def test_small_cross_is_measured_against_pre_close() -> None:
    p = np.array([10.0, 10.0, 10.0, 10.0, NAN])
    o = np.array([10.0, 10.0, 10.0, 10.5, 10.0])
    c = np.array([10.05, 10.2, 10.05, 10.4, 10.0])
    h = np.array([10.1, 10.2, 10.4, 10.5, 10.0])
    lo = np.array([9.9, 10.0, 10.0, 10.3, 10.0])
    # 1: all within; 2: change 2% > 1%; 3: range 4% > 3%; 4: change 4% though |C − O|/C and (C − C)/C are small
    close(activity.small_cross(o, h, lo, c, p), [1.0, 0.0, 0.0, 0.0, NAN])


def test_hyper_activity_counts_over_valid_days() -> None:
    ones = np.ones(5)
    tr = np.array([12.0, 5.0, NAN, 15.0, 11.0])
    amount = np.full(5, 2_000_000.0)
    mv = np.array([600_000.0, 600_000.0, NAN, 3_000_000.0, 1_000_000.0])
    out = activity.hyper_activity(ones, ones, ones, ones, ones, amount, tr, mv, n=2, half_year=3).values
    close(out["active_turnover"], [1.0, 0.0, NAN, 1.0, 1.0])
    close(out["active_turnover_count"], [NAN, 1.0, NAN, 1.0, 2.0])
    close(out["turnover_ma"], [NAN, 8.5, NAN, 10.0, 13.0])
    close(out["halfyear_active_count"], [NAN, NAN, NAN, 1.0, 1.0])  # day 3 is too big, day 4 in range
    close(out["small_cross_count"], [NAN, 2.0, 2.0, 2.0, 2.0])  # a flat candle at pre_close is a small cross


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: trend.macd(np.ones(3), slow=0), "slow"),
        (lambda: oscillators.kdj(np.ones(3), np.ones(3), np.ones(3), m1=1.5), "m1"),
        (lambda: trend.boll(np.ones(3), width=-1), "width"),
        (lambda: oscillators.cci(np.ones(3), np.ones(4), np.ones(3)), "low"),
        (lambda: oscillators.rsi(np.ones(3), state={"up": np.ones(1)}), "state"),
    ],
)
def test_bad_parameters_name_the_field(call: object, field: str) -> None:
    with pytest.raises(InvalidIndicatorParameter) as caught:
        call()  # type: ignore[operator]
    assert caught.value.field == field
