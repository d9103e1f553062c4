"""Pure adjustment and panel maths (domain/adjust.py, domain/panel.py)."""

from __future__ import annotations

import numpy as np
import pytest

from zquant_marketdata.domain import adjust as adj
from zquant_marketdata.domain import panel as pnl
from zquant_marketdata.domain.adjust import AdjustMode

pytestmark = pytest.mark.unit

D = lambda *days: np.array(days, dtype="datetime64[D]")  # noqa: E731


def test_asof_takes_the_latest_factor_of_the_same_code_at_or_before_each_bar():
    factors = adj.asof_factors(
        bar_codes=np.array([0, 0, 0, 1, 1, 2]),
        bar_days=D("2023-07-13", "2023-07-14", "2023-07-17", "2023-07-13", "2023-07-20", "2023-07-13"),
        factor_codes=np.array([0, 0, 1, 0, 1]),
        factor_days=D("2023-07-17", "2023-07-13", "2023-07-14", "2023-07-14", "2023-07-19"),
        factor_values=np.array([2.245984, 2.106013, 5.0, np.nan, 6.0]),
    )
    # code 0 on 07-14: its own factor is NaN (missing) → the 07-13 one; code 1 on 07-13: none yet;
    # code 2: no factors at all.
    np.testing.assert_array_equal(factors, [2.106013, 2.106013, 2.245984, np.nan, 6.0, np.nan])


def test_asof_with_no_factors_is_all_nan():
    out = adj.asof_factors(np.array([0]), D("2023-01-03"), np.array([], int), D(), np.array([]))
    assert np.isnan(out).all()


def test_qfq_hfq_scale_prices_and_recompute_change():
    values = {
        "open": np.array([4.82, 4.6]), "close": np.array([4.87, 4.57]), "pre_close": np.array([4.81, 4.57]),
        "change": np.array([0.06, 0.0]), "pct_chg": np.array([1.25, 0.0]), "vol": np.array([10.0, 20.0]),
    }
    factor = np.array([2.106013, 2.245984])
    hfq = adj.adjust(AdjustMode.HFQ, values, adj.scale(AdjustMode.HFQ, factor))
    np.testing.assert_allclose(hfq["close"], [4.87 * 2.106013, 4.57 * 2.245984])
    np.testing.assert_allclose(hfq["change"], hfq["close"] - hfq["pre_close"])
    np.testing.assert_allclose(hfq["pct_chg"], (hfq["close"] / hfq["pre_close"] - 1) * 100)
    np.testing.assert_array_equal(hfq["vol"], values["vol"])  # volume is never adjusted

    qfq = adj.adjust(AdjustMode.QFQ, values, adj.scale(AdjustMode.QFQ, factor, 2.245984))
    np.testing.assert_allclose(qfq["close"], [4.87 * 2.106013 / 2.245984, 4.57])
    # The day's return survives adjustment, so pct_chg equals the raw one up to float noise.
    np.testing.assert_allclose(qfq["pct_chg"], (values["close"] / values["pre_close"] - 1) * 100)

    none = adj.adjust(AdjustMode.NONE, values, None)
    assert none["change"] is values["change"]
    with pytest.raises(ValueError):
        adj.scale(AdjustMode.QFQ, factor)


def test_rounding_matches_percent_format_even_near_ties():
    rng = np.random.default_rng(7)
    values = np.concatenate([
        rng.uniform(0, 100, 20_000) * rng.uniform(0.5, 3, 20_000),
        np.array([1.005, 1.015, 2.675, 0.125, 0.375, -1.005, 10.235, 4.57 * 2.245984]),
        np.arange(0, 20, 0.005),
    ])
    expected = np.array([float(f"{x:.2f}") for x in values])
    np.testing.assert_array_equal(adj.round_like_pro_bar(values), expected)
    assert np.isnan(adj.round_like_pro_bar(np.array([np.nan]))[0])


def test_rounded_adjustment_recomputes_change_from_rounded_prices():
    values = {"close": np.array([4.87]), "pre_close": np.array([4.81]), "change": np.array([0.06]),
              "pct_chg": np.array([1.25])}
    out = adj.adjust(AdjustMode.HFQ, values, np.array([2.106013]), round_prices=True)
    close, pre = float("%.2f" % (4.87 * 2.106013)), float("%.2f" % (4.81 * 2.106013))
    assert (out["close"][0], out["pre_close"][0]) == (close, pre)
    assert out["change"][0] == pytest.approx(close - pre, abs=1e-12)
    assert out["pct_chg"][0] == float("%.2f" % ((close - pre) / pre * 100))


def test_date_axis_is_the_calendar_plus_bar_days():
    axis = pnl.date_axis(D("2023-01-03", "2023-01-04", "2023-01-05"), D("2023-01-05", "2023-01-07", "2023-01-03"))
    np.testing.assert_array_equal(axis, D("2023-01-03", "2023-01-04", "2023-01-05", "2023-01-07"))
    np.testing.assert_array_equal(pnl.date_axis(D(), D("2023-01-05", "2023-01-03")), D("2023-01-03", "2023-01-05"))


def _scatter(runs, rows, axis, code_count, **options):
    grids = pnl.empty_grids(runs.columns, code_count, axis.size)
    pnl.place_parts([grids[name] for name in runs.columns], runs.parts, rows, pnl.PositionTable(axis), **options)
    return grids


def test_scatter_leaves_nan_where_no_bar_and_rejects_days_off_the_axis():
    axis = D("2023-01-03", "2023-01-04", "2023-01-05")
    runs = pnl.runs_from_rows(np.array([1, 0, 1]), ["A", "B"], D("2023-01-05", "2023-01-03", "2023-01-03"),
                              {"close": np.array([3.0, 1.0, 2.0])})
    out = _scatter(runs, {"A": 0, "B": 1}, axis, 2)
    np.testing.assert_array_equal(out["close"], [[1.0, np.nan, np.nan], [2.0, np.nan, 3.0]])
    off = pnl.runs_from_rows(np.array([0, 0]), ["A"], D("2023-01-04", "2023-01-06"), {"close": np.array([1.0, 2.0])})
    with pytest.raises(ValueError):
        _scatter(off, {"A": 0}, axis, 1)
    dropped = _scatter(off, {"A": 0}, axis, 1, drop_off_axis=True)
    np.testing.assert_array_equal(dropped["close"], [[np.nan, 1.0, np.nan]])


def test_scatter_places_every_part_and_skips_codes_outside_the_universe():
    axis = D("2023-01-03", "2023-01-04", "2023-01-05", "2023-01-06")
    be = lambda *v: np.array(v, dtype=">f8")  # noqa: E731 - the database's byte order
    days = lambda *d: D(*d).astype(np.int64)  # noqa: E731
    runs = pnl.CodeRuns(["close"], [
        pnl.RunPart(["A", "X", "B"], np.array([2, 1, 1]), days("2023-01-04", "2023-01-03", "2023-01-03", "2023-01-06"),
                    [be(2.0, 1.0, 9.0, 4.0)]),
        pnl.RunPart(["A"], np.array([1]), days("2023-01-06"), [be(3.0)]),
    ])
    assert runs.size == 5 and runs.codes == {"A", "B", "X"}
    np.testing.assert_array_equal(runs.unique_days(), D("2023-01-03", "2023-01-04", "2023-01-06"))
    out = _scatter(runs, {"A": 0, "B": 1}, axis, 2)
    np.testing.assert_array_equal(out["close"], [[1.0, 2.0, np.nan, 3.0], [np.nan, np.nan, np.nan, 4.0]])


def test_forward_fill_and_chunk_sizes():
    grid = np.array([[np.nan, 1.0, np.nan, 2.0, np.nan], [np.nan, np.nan, np.nan, np.nan, 5.0]])
    np.testing.assert_array_equal(
        pnl.forward_fill_inplace(grid), [[np.nan, 1.0, 1.0, 2.0, 2.0], [np.nan, np.nan, np.nan, np.nan, 5.0]]
    )
    assert pnl.codes_per_chunk(2500, 0) == (2 << 20) // 20_000
    assert pnl.codes_per_chunk(2500, 7) == 7
    assert pnl.codes_per_chunk(10_000_000, 0) == 1
    assert pnl.codes_per_chunk(2500, 10**9) == (48 << 20) // 20_000
