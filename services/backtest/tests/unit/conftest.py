"""Small hand-made universes for the rules tests: one-day bars from a few keyword arrays."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from zquant_backtest.domain.boards import boards_of, exchanges_of
from zquant_backtest.domain.fills import Universe
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.orders import DayBars
from zquant_kit.testing.paths import SHARED_DATA

BarsFactory = Callable[..., DayBars]


def _bars(n: int = 1, **given: object) -> DayBars:
    """Defaults: open 10.00, high 10.20, low 9.90, close 10.00, pre_close 10.00, 1,000 手, long listed, not ST."""

    def field(name: str, default: float) -> np.ndarray:
        value = given.get(name, default)
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()

    has_bar = np.broadcast_to(np.asarray(given.get("has_bar", True), dtype=bool), (n,)).copy()
    return DayBars(
        open=field("open", 10.0),
        high=field("high", 10.2),
        low=field("low", 9.9),
        close=field("close", 10.0),
        volume=np.where(has_bar, field("volume", 1_000.0), 0.0),
        amount=field("amount", 1_000.0),
        pre_close=field("pre_close", 10.0),
        has_bar=has_bar,
        is_st=np.broadcast_to(np.asarray(given.get("is_st", False), dtype=bool), (n,)).copy(),
        list_days=np.broadcast_to(np.asarray(given.get("list_days", 1_000), dtype=np.int64), (n,)).copy(),
        up_limit=None if "up_limit" not in given else field("up_limit", np.nan),
        down_limit=None if "down_limit" not in given else field("down_limit", np.nan),
    )


@pytest.fixture
def bars() -> BarsFactory:
    return _bars


@pytest.fixture
def universe_of() -> Callable[[Sequence[str]], Universe]:
    return lambda codes: Universe(boards=boards_of(codes), exchanges=exchanges_of(codes))


PanelFactory = Callable[..., MarketPanel]


def _panel(codes: Sequence[str] = ("600000.SH",), days: int = 3, **given: object) -> MarketPanel:
    """A hand-made panel: every field broadcast to days × codes from a scalar, a row or a full array. Defaults as
    ``_bars``, trading days from 2024-01-02 on (weekdays), long listed, nothing suspended, no stk_limit."""
    shape = (days, len(codes))

    def full(name: str, default: object, dtype: type) -> np.ndarray:
        return np.broadcast_to(np.asarray(given.get(name, default), dtype=dtype), shape).copy()

    dates = np.busday_offset(np.datetime64("2024-01-02"), np.arange(days), roll="forward")
    prices = {"open": 10.0, "high": 10.2, "low": 9.9, "close": 10.0, "pre_close": 10.0}
    return MarketPanel(
        dates=dates.astype("datetime64[D]"),
        codes=tuple(codes),
        **{name: full(name, default, np.float64) for name, default in prices.items()},
        volume=full("volume", 1_000.0, np.float64),
        amount=full("amount", 1_000.0, np.float64),
        adj_factor=full("adj_factor", 1.0, np.float64),
        up_limit=full("up_limit", np.nan, np.float64),
        down_limit=full("down_limit", np.nan, np.float64),
        is_st=full("is_st", False, bool),
        is_suspended=full("is_suspended", False, bool),
        list_days=full("list_days", 1_000, np.int64),
        members=None if "members" not in given else full("members", True, bool),
        industries=given.get("industries"),  # type: ignore[arg-type]
        benchmark_close=given.get("benchmark_close"),  # type: ignore[arg-type]
    )


@pytest.fixture
def panel_of() -> PanelFactory:
    return _panel


@pytest.fixture(scope="session")
def bank_panel() -> MarketPanel:
    """The four real SSE banks, 2019-01 … 2023-08, unadjusted, with their adj_factor and 000001.SH as benchmark.
    ``list_days`` counts SSE trading days (from the index's own calendar) since each bank's listing date."""
    root = SHARED_DATA
    daily = pd.read_csv(root / "a_share" / "daily.csv", dtype={"trade_date": str})
    adj = pd.read_csv(root / "a_share" / "adj_factor.csv", dtype={"trade_date": str})
    basic = pd.read_csv(root / "a_share" / "stock_basic.csv", dtype={"list_date": str}).set_index("ts_code")
    index = pd.read_csv(root / "index" / "000001.SH.csv", dtype={"trade_date": str}).set_index("trade_date")
    rows = daily.merge(adj, on=["ts_code", "trade_date"])
    wide = {
        name: rows.pivot(index="trade_date", columns="ts_code", values=name).sort_index()
        for name in ("open", "high", "low", "close", "pre_close", "vol", "adj_factor")
    }
    dates, codes = wide["close"].index, tuple(wide["close"].columns)
    calendar = index.index.to_numpy()
    listed = np.array([np.searchsorted(calendar, basic.loc[c, "list_date"]) for c in codes])
    list_days = np.searchsorted(calendar, dates.to_numpy())[:, None] - listed[None, :] + 1
    values = {name: frame.to_numpy(dtype=np.float64) for name, frame in wide.items()}
    missing = np.isnan(values["close"])
    return MarketPanel(
        dates=pd.to_datetime(dates).to_numpy().astype("datetime64[D]"),
        codes=codes,
        open=values["open"],
        high=values["high"],
        low=values["low"],
        close=values["close"],
        pre_close=values["pre_close"],
        volume=np.nan_to_num(values["vol"]),
        amount=values["close"] * values["vol"] / 10.0,  # no amount in the file: close × 手 in 千元
        adj_factor=values["adj_factor"],
        up_limit=np.full(missing.shape, np.nan),
        down_limit=np.full(missing.shape, np.nan),
        is_st=np.zeros(missing.shape, dtype=bool),
        is_suspended=missing,
        list_days=list_days.astype(np.int64),
        industries=tuple(basic.loc[c, "industry"] for c in codes),
        benchmark_close=index.loc[dates, "close"].to_numpy(dtype=np.float64),
    )
