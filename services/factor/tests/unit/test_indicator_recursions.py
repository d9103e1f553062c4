"""EMA/SMA recursions and valid-bar windows: hand-computed cases, suspensions skipped, chunked runs equal one pass."""

from __future__ import annotations

import numpy as np
import pytest

from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter
from zquant_factor.domain.indicators.recursions import (
    Stat,
    ema,
    hhv,
    llv,
    rolling,
    rolling_avedev,
    rolling_mean,
    rolling_std,
    rolling_sum,
    sma,
    smooth,
)

pytestmark = pytest.mark.unit

NAN = np.nan


def close(a: np.ndarray, b: list[float]) -> None:
    np.testing.assert_allclose(a, np.array(b), rtol=0, atol=1e-12, equal_nan=True)


def test_ema_is_seeded_with_the_first_valid_value_and_skips_suspended_days() -> None:
    # α = 2/(3+1) = 0.5: 1 → 1.5 → (suspended) → 0.5·4 + 0.5·1.5 = 2.75 → 3.875
    close(ema(np.array([NAN, 1.0, 2.0, NAN, 4.0, 5.0]), 3), [NAN, 1.0, 1.5, NAN, 2.75, 3.875])


def test_sma_uses_alpha_m_over_n() -> None:
    # α = 1/3: 3 → 3 + (6 − 3)/3 = 4 → 4 + (1 − 4)/3 = 3
    close(sma(np.array([3.0, 6.0, NAN, 1.0]), 3, 1), [3.0, 4.0, NAN, 3.0])


def test_recursions_run_per_stock_on_a_panel_c_contiguous_or_not() -> None:
    panel = np.array([[1.0, 10.0], [NAN, 20.0], [3.0, NAN], [5.0, 40.0]])
    expected = np.column_stack([ema(panel[:, 0], 3), ema(panel[:, 1], 3)])
    np.testing.assert_array_equal(ema(panel, 3), expected)
    np.testing.assert_array_equal(ema(np.asfortranarray(panel), 3), expected)
    np.testing.assert_array_equal(ema(panel.T.copy().T, 3), expected)


def test_windows_count_valid_bars_not_calendar_rows() -> None:
    x = np.array([1.0, 2.0, NAN, 4.0, 5.0, NAN, NAN, 9.0])
    close(rolling_mean(x, 3), [NAN, NAN, NAN, 7 / 3, 11 / 3, NAN, NAN, 6.0])
    close(rolling_sum(x, 2), [NAN, 3.0, NAN, 6.0, 9.0, NAN, NAN, 14.0])
    close(hhv(x, 2), [NAN, 2.0, NAN, 4.0, 5.0, NAN, NAN, 9.0])
    close(llv(x, 3), [NAN, NAN, NAN, 1.0, 2.0, NAN, NAN, 4.0])
    # {4, 5, 9}: mean 6, population std sqrt(14/3), sample sqrt(7), mean abs deviation (2 + 1 + 3)/3 = 2
    assert rolling_std(x, 3)[-1] == pytest.approx(np.sqrt(14 / 3), abs=1e-12)
    assert rolling_std(x, 3, sample=True)[-1] == pytest.approx(np.sqrt(7.0), abs=1e-12)
    assert rolling_avedev(x, 3)[-1] == pytest.approx(2.0, abs=1e-12)


def test_window_of_one_is_the_value_itself() -> None:
    x = np.array([2.0, NAN, 3.0])
    close(rolling_mean(x, 1), [2.0, NAN, 3.0])
    close(hhv(x, 1), [2.0, NAN, 3.0])


@pytest.mark.parametrize("stat", list(Stat))
def test_windows_resume_from_their_tail(stat: Stat) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((60, 5)).cumsum(axis=0) + 50
    x[rng.random(x.shape) < 0.2] = NAN
    full, _ = rolling(x, 6, stat)
    parts, tail = [], None
    for lo, hi in [(0, 3), (3, 4), (4, 31), (31, 60)]:
        out, tail = rolling(x[lo:hi], 6, stat, tail)
        parts.append(out)
    np.testing.assert_allclose(np.vstack(parts), full, rtol=0, atol=1e-9, equal_nan=True)


def test_smooth_resumes_from_its_last_values() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 4))
    x[rng.random(x.shape) < 0.3] = NAN
    full, _ = smooth(x, 0.25)
    head, last = smooth(x[:17], 0.25)
    tail, _ = smooth(x[17:], 0.25, last)
    np.testing.assert_array_equal(np.vstack([head, tail]), full)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: ema(np.ones(3), 0), "n"),
        (lambda: ema(np.ones(3), 2.5), "n"),  # type: ignore[arg-type]
        (lambda: ema(np.ones(3), True), "n"),
        (lambda: sma(np.ones(3), 3, 4), "m"),
        (lambda: rolling_std(np.ones(3), 1, sample=True), "n"),
        (lambda: rolling_mean(np.ones((2, 2, 2)), 2), "x"),
    ],
)
def test_bad_parameters_name_the_field(call: object, field: str) -> None:
    with pytest.raises(InvalidIndicatorParameter) as caught:
        call()  # type: ignore[operator]
    assert caught.value.field == field
