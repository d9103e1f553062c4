"""A whole run on real bars (601398.SH, 2019-01 … 2023-08, with its real ex-rights days): the NAV moves daily, the
money adds up, the summary agrees with empyrical on the NAV's own returns, and a rerun is bit-identical."""

from __future__ import annotations

import empyrical
import numpy as np
import pandas as pd
import pytest

from zquant_backtest.domain.boards import boards_of, exchanges_of
from zquant_backtest.domain.corporate_actions import carry_by_adj_factor
from zquant_backtest.domain.day import trade_day
from zquant_backtest.domain.fills import Universe
from zquant_backtest.domain.ledger import Ledger
from zquant_backtest.domain.orders import DayBars, FillSettings
from zquant_backtest.domain.performance import Performance, activity_of, summarise
from zquant_backtest.domain.rules import RULES_VERSION
from zquant_kit.testing.paths import SHARED_DATA

pytestmark = pytest.mark.unit

CODE, INITIAL = "601398.SH", 1_000_000.0


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    daily = pd.read_csv(SHARED_DATA / "a_share" / "daily.csv", dtype={"trade_date": str})
    adj = pd.read_csv(SHARED_DATA / "a_share" / "adj_factor.csv", dtype={"trade_date": str})
    rows = daily.merge(adj, on=["ts_code", "trade_date"]).query("ts_code == @CODE").sort_values("trade_date")
    rows["adj_ratio"] = rows["adj_factor"] / rows["adj_factor"].shift(1)
    return rows.reset_index(drop=True)


def _run(frame: pd.DataFrame) -> tuple[Ledger, np.ndarray, np.ndarray, float]:
    """Every 20 days: buy 100,000 shares, or sell everything; decisions use the day's close, fills the next open."""
    universe = Universe(boards_of([CODE]), exchanges_of([CODE]))
    columns = {
        name: frame[name].to_numpy(dtype=np.float64)[:, None]
        for name in ("open", "high", "low", "close", "vol", "pre_close", "adj_ratio")
    }
    days = pd.to_datetime(frame["trade_date"]).to_numpy().astype("datetime64[D]")
    ledger, navs, carried, orders = Ledger(1, INITIAL), [], 0.0, np.zeros(1, dtype=np.int64)
    for i, day in enumerate(days):
        ratio = columns["adj_ratio"][i]
        if ledger.qty[0] > 0 and np.isfinite(ratio[0]) and ratio[0] != 1.0:
            carried += carry_by_adj_factor(ledger, ratio)
        bars = DayBars(
            open=columns["open"][i],
            high=columns["high"][i],
            low=columns["low"][i],
            close=columns["close"][i],
            volume=columns["vol"][i],
            amount=columns["close"][i] * columns["vol"][i] / 10.0,
            pre_close=columns["pre_close"][i],
            has_bar=np.array([True]),
            is_st=np.array([False]),
            list_days=np.array([5_000]),
        )
        result = trade_day(day.item(), orders, bars, universe, ledger, FillSettings(slippage_bps=5.0))
        navs.append(result.nav.nav)
        orders = np.zeros(1, dtype=np.int64)
        if i % 20 == 19:
            orders[0] = 100_000 if ledger.qty[0] == 0 else -int(ledger.qty[0])
    return ledger, np.array(navs), days, carried


@pytest.fixture(scope="module")
def run(frame: pd.DataFrame) -> tuple[Ledger, np.ndarray, np.ndarray, float, Performance]:
    ledger, navs, days, carried = _run(frame)
    return ledger, navs, days, carried, summarise(days, navs, INITIAL, activity_of(ledger))


def test_the_nav_moves_and_the_money_adds_up(
    run: tuple[Ledger, np.ndarray, np.ndarray, float, Performance],
) -> None:
    ledger, navs, _, carried, performance = run
    assert np.count_nonzero(np.diff(navs)) > len(navs) / 3
    assert carried > 0  # the bank paid dividends while held
    if ledger.qty[0] == 0:
        pnl = sum(trip.pnl for trip in ledger.lots.round_trips)
        assert ledger.cash == pytest.approx(INITIAL + pnl + carried, abs=1e-6)
    assert performance.trades.closed == len(ledger.lots.round_trips) > 10
    assert performance.rules_version == RULES_VERSION
    assert performance.total_costs == pytest.approx(ledger.costs_paid) and performance.total_costs > 0


def test_summary_matches_empyrical_on_the_nav(
    run: tuple[Ledger, np.ndarray, np.ndarray, float, Performance],
) -> None:
    _, navs, _, _, performance = run
    returns = np.concatenate(([INITIAL], navs))
    returns = returns[1:] / returns[:-1] - 1
    assert performance.total_return == pytest.approx(navs[-1] / INITIAL - 1, abs=1e-12)
    assert performance.sharpe == pytest.approx(empyrical.sharpe_ratio(returns), abs=1e-9)
    assert performance.max_drawdown.depth == pytest.approx(empyrical.max_drawdown(returns), abs=1e-9)
    assert performance.annual_return == pytest.approx(empyrical.annual_return(returns), abs=1e-9)
    assert np.isnan(performance.beta)


def test_a_rerun_is_bit_identical(
    frame: pd.DataFrame, run: tuple[Ledger, np.ndarray, np.ndarray, float, Performance]
) -> None:
    _, again, _, _ = _run(frame)
    assert again.tobytes() == run[1].tobytes()
