"""The market input of a backtest: dates × codes arrays of unadjusted bars plus everything the rules need.

The next issue fills it from marketdata's ``GetPanel``; tests build it from real bars or small hand-made arrays.
Units are Tushare's (``volume`` in 手, ``amount`` in 千元). ``up_limit`` / ``down_limit`` are ``stk_limit``'s, NaN
where not synced (the rules compute them then). A suspended code has ``is_suspended`` set and no fill that day.
The arrays are made read-only on construction: the derived ones (tradable days, ex-rights ratios) are computed
once, and no strategy or engine can change the input it is fingerprinted by.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, DateArray, FloatArray, IntArray
from zquant_backtest.domain.boards import boards_of, exchanges_of
from zquant_backtest.domain.corporate_actions import Dividend
from zquant_backtest.domain.fills import Universe
from zquant_backtest.domain.orders import DayBars

PRICE_FIELDS = ("open", "high", "low", "close", "pre_close", "volume", "amount", "adj_factor")
"""The float fields a strategy may read through ``history``."""


@dataclass(frozen=True, eq=False)
class MarketPanel:
    dates: DateArray
    codes: tuple[str, ...]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    pre_close: FloatArray
    volume: FloatArray
    amount: FloatArray
    adj_factor: FloatArray
    up_limit: FloatArray
    down_limit: FloatArray
    is_st: BoolArray
    is_suspended: BoolArray
    list_days: IntArray
    """Trading days since listing, 1 on the listing day, ≤ 0 before it."""
    dividends: tuple[Dividend, ...] = ()
    """``dividend`` events (``Dividend.index`` is the code's column); empty: carry by ``adj_factor`` instead."""
    members: BoolArray | None = None
    """Index membership as of each date (no survivorship bias); None: every code is a member."""
    industries: tuple[str, ...] | None = None
    benchmark_close: FloatArray | None = None
    """An index close per date for the benchmark NAV."""
    days: tuple[date, ...] = field(init=False)
    universe: Universe = field(init=False)
    columns: dict[str, int] = field(init=False)
    _has_bar: BoolArray = field(init=False, repr=False)
    _adj_ratio: FloatArray = field(init=False, repr=False)
    _adj_moves: BoolArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        shape = (len(self.dates), len(self.codes))
        for name in (*PRICE_FIELDS, "up_limit", "down_limit", "is_st", "is_suspended", "list_days"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, not {shape}")
        if self.members is not None and self.members.shape != shape:
            raise ValueError(f"members has shape {self.members.shape}, not {shape}")
        if self.benchmark_close is not None and self.benchmark_close.shape != shape[:1]:
            raise ValueError("benchmark_close needs one value per date")
        if len(self.dates) > 1 and not bool(np.all(np.diff(self.dates) > np.timedelta64(0, "D"))):
            raise ValueError("dates must be strictly increasing")
        object.__setattr__(self, "days", tuple(self.dates.astype("datetime64[D]").tolist()))
        object.__setattr__(self, "universe", Universe(boards_of(self.codes), exchanges_of(self.codes)))
        object.__setattr__(self, "columns", {code: i for i, code in enumerate(self.codes)})
        for item in fields(self):
            values = getattr(self, item.name, None)
            if isinstance(values, np.ndarray):
                values.setflags(
                    write=False
                )  # the derived arrays below stay true; nobody writes into the input
        has_bar = ~self.is_suspended & np.isfinite(self.close) & (self.list_days > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.adj_factor[1:] / self.adj_factor[:-1]
        ratio = np.vstack([np.ones((1, shape[1])), np.where(np.isfinite(ratio) & (ratio > 0), ratio, 1.0)])
        object.__setattr__(self, "_has_bar", has_bar)
        object.__setattr__(self, "_adj_ratio", ratio)
        object.__setattr__(self, "_adj_moves", (ratio != 1.0).any(axis=1))

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.dates), len(self.codes)

    @property
    def has_bar(self) -> BoolArray:
        """Not suspended, listed, with a close: the days a code can trade."""
        return self._has_bar

    def day(self, t: int) -> DayBars:
        """Day ``t``'s bars for the fill kernel (row views, nothing copied)."""
        has_bar = self._has_bar[t]
        return DayBars(
            open=self.open[t],
            high=self.high[t],
            low=self.low[t],
            close=self.close[t],
            volume=np.where(has_bar, self.volume[t], 0.0),
            amount=self.amount[t],
            pre_close=self.pre_close[t],
            has_bar=has_bar,
            is_st=self.is_st[t],
            list_days=self.list_days[t],
            up_limit=self.up_limit[t],
            down_limit=self.down_limit[t],
        )

    def adj_ratio(self, t: int) -> FloatArray | None:
        """adj[t] / adj[t−1] per code (1 on the first day and wherever a factor is missing); None on a day
        without any ex-rights move, when carrying positions across would change nothing."""
        return self._adj_ratio[t] if self._adj_moves[t] else None

    def column(self, code: str) -> int:
        if code not in self.columns:
            raise KeyError(f"{code} is not in the panel")
        return self.columns[code]
