"""Custom expressions evaluated on small panels against hand-computed numbers: suspended (NaN) days skipped by the
time-series functions, left out by the cross-sectional ones, and no infinity or exception from bad arithmetic."""

from __future__ import annotations

import re

import numpy as np
import pytest

from zquant_factor.domain.expressions import CheckedExpression

pytestmark = pytest.mark.unit

nan = np.nan
# dates × stocks: stock 0 suspended on day 2, stock 1 flat, stock 2 listed on day 1
CLOSE = np.array(
    [
        [10.0, 20.0, nan],
        [11.0, 20.0, 5.0],
        [nan, 20.0, 6.0],
        [12.0, 20.0, 7.0],
        [13.0, 20.0, 8.0],
        [12.0, 20.0, 9.0],
    ]
)
VOL = np.array(
    [
        [100.0, 1.0, nan],
        [200.0, 2.0, 50.0],
        [nan, 3.0, 40.0],
        [300.0, 4.0, 30.0],
        [100.0, 5.0, 20.0],
        [400.0, 6.0, 10.0],
    ]
)
PANEL = {"close": CLOSE, "vol": VOL}


def values(source: str) -> np.ndarray:
    return CheckedExpression.parse(source).evaluate(PANEL)


def column(source: str, stock: int) -> list[float]:
    return values(source)[:, stock].tolist()


def assert_same(actual: list[float], expected: list[float]) -> None:
    np.testing.assert_allclose(np.array(actual), np.array(expected), rtol=0, atol=1e-12, equal_nan=True)


def test_ref_and_delta_skip_the_suspended_day() -> None:
    assert_same(column("ref(close, 1)", 0), [nan, 10, nan, 11, 12, 13])
    assert_same(column("ref(close, 2)", 0), [nan, nan, nan, 10, 11, 12])
    assert_same(column("delta(close, 1)", 0), [nan, 1, nan, 1, 1, -1])
    assert_same(column("ref(close, 1)", 2), [nan, nan, 5, 6, 7, 8])


def test_windows_count_valid_bars_and_print_nan_through_warm_up_and_suspension() -> None:
    assert_same(column("ma(close, 2)", 0), [nan, 10.5, nan, 11.5, 12.5, 12.5])
    assert_same(column("sum(close, 3)", 0), [nan, nan, nan, 33, 36, 37])
    assert_same(column("max(close, 2)", 0), [nan, 11, nan, 12, 13, 13])
    assert_same(column("min(close, 2)", 0), [nan, 10, nan, 11, 12, 12])
    assert_same(column("std(close, 2)", 0), [nan, 0.5**0.5, nan, 0.5**0.5, 0.5**0.5, 0.5**0.5])
    assert_same(column("ma(close, 3)", 2), [nan, nan, nan, 6, 7, 8])


def test_ema_is_seeded_with_the_first_valid_value_and_keeps_its_state_over_a_suspension() -> None:
    assert_same(column("ema(close, 3)", 0), [10, 10.5, nan, 11.25, 12.125, 12.0625])
    assert_same(column("ema(close, 3)", 2), [nan, 5, 5.5, 6.25, 7.125, 8.0625])


def test_ts_rank_is_todays_average_rank_in_the_window_as_a_fraction() -> None:
    assert_same(column("ts_rank(close, 3)", 0), [nan, nan, nan, 1, 1, 0.5])
    assert_same(column("ts_rank(close, 3)", 1), [nan, nan, 2 / 3, 2 / 3, 2 / 3, 2 / 3])
    assert_same(column("ts_rank(close, 1)", 0), [1, 1, nan, 1, 1, 1])


def test_ts_corr_pairs_valid_days_and_is_nan_for_a_flat_window() -> None:
    assert_same(column("ts_corr(close, vol, 3)", 2), [nan, nan, nan, -1, -1, -1])
    assert_same(column("ts_corr(close, vol, 3)", 1), [nan] * 6)
    x, y = np.array([10.0, 11, 12]), np.array([100.0, 200, 300])
    assert column("ts_corr(close, vol, 3)", 0)[3] == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)


def test_rank_is_a_pct_rank_among_the_dates_valid_stocks() -> None:
    ranks = values("rank(close)")
    assert_same(ranks[1].tolist(), [2 / 3, 1, 1 / 3])
    assert_same(ranks[2].tolist(), [nan, 1, 0.5])
    assert_same(ranks[0].tolist(), [0.5, 1, nan])


def test_zscore_and_demean_use_the_dates_valid_stocks() -> None:
    assert_same(values("zscore(close)")[0].tolist(), [-1, 1, nan])
    assert_same(values("demean(close)")[0].tolist(), [-5, 5, nan])
    assert_same(values("demean(close)")[2].tolist(), [nan, 7, -7])
    assert_same(values("zscore(close - close + 1)")[1].tolist(), [nan, nan, nan])


def test_arithmetic_broadcasts_constants_and_division_by_zero_is_nan() -> None:
    assert_same(column("close * 2 - 1", 0), [19, 21, nan, 23, 25, 23])
    assert_same(column("-close / 4", 1), [-5] * 6)
    assert_same(column("close / (close - 11)", 0), [-10, nan, nan, 12, 6.5, 12])
    assert_same(column("(close - close) / (close - close)", 1), [nan] * 6)


def test_no_infinity_ever_comes_out() -> None:
    for source in [
        "close / (close - 20)",
        "log(close - 10)",
        "close * 1e12 * 1e12 * 1e12 * 1e12 * 1e12 * 1e12 * 1e12",
        "1 / zscore(close)",
        "ts_corr(close, close, 2) / 0",
    ]:
        assert not np.isinf(values(source)).any(), source


def test_comparisons_give_one_zero_and_nan_where_a_side_is_nan() -> None:
    assert_same(column("close > ref(close, 1)", 0), [nan, 1, nan, 1, 1, 0])
    assert_same(column("close == 20", 1), [1] * 6)
    assert_same(column("close != 20", 1), [0] * 6)
    assert_same(column("close <= 12", 0), [1, 1, nan, 1, 0, 1])


def test_where_abs_sign_log_are_element_wise() -> None:
    assert_same(column("where(close > ref(close, 1), vol, -vol)", 0), [nan, 200, nan, 300, 100, -400])
    assert_same(column("abs(delta(close, 1))", 0), [nan, 1, nan, 1, 1, 1])
    assert_same(column("sign(delta(close, 1))", 0), [nan, 1, nan, 1, 1, -1])
    assert_same(column("log(close - 10)", 0), [nan, 0, nan, np.log(2), np.log(3), np.log(2)])


def test_the_issue_example_composes() -> None:
    # day 1: close / ma is 11 / 10.5 for stock 0, 20 / 20 for stock 1, NaN for stock 2 (its MA is warming up)
    assert_same(values("rank(close / ma(close, 2))")[1].tolist(), [1, 0.5, nan])
    # day 3: 12 / 11.5, 1, 7 / 6.5
    assert_same(values("rank(close / ma(close, 2))")[3].tolist(), [2 / 3, 1 / 3, 1])


def test_inputs_are_never_written() -> None:
    close, vol = CLOSE.copy(), VOL.copy()
    CheckedExpression.parse("rank(close) + zscore(vol) + ts_corr(close, vol, 3) + delta(close, 1)").evaluate(
        {"close": close, "vol": vol}
    )
    np.testing.assert_array_equal(close, CLOSE)
    np.testing.assert_array_equal(vol, VOL)


def test_integer_inputs_and_extra_fields_are_accepted() -> None:
    out = CheckedExpression.parse("vol * 2").evaluate({"vol": np.arange(6).reshape(3, 2), "close": CLOSE})
    assert out.dtype == np.float64
    assert out.tolist() == [[0, 2], [4, 6], [8, 10]]


@pytest.mark.parametrize(
    ("panel", "words"),
    [
        ({"close": CLOSE}, "lacks the fields ['vol']"),
        ({"close": CLOSE, "vol": VOL[:3]}, "one shape"),
        ({"close": CLOSE[0], "vol": VOL[0]}, "dates × stocks"),
    ],
)
def test_a_panel_that_does_not_fit_the_expression_is_a_caller_error(
    panel: dict[str, np.ndarray], words: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        CheckedExpression.parse("close + vol").evaluate(panel)
