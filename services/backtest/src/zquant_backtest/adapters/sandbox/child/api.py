"""The strategy API user code sees, JoinQuant style: context, portfolio, bars, history and order_* calls.

Orders are only recorded here as (code index, kind, amount); the trusted engine applies the rules.
`history()` serves only days the child has already been sent, so there is no look-ahead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .framing import ORDER_KINDS


class Portfolio:
    """Cash and positions as of the start of the current day (positions: code -> shares held)."""

    def __init__(self, codes: list[str]) -> None:
        self._codes = codes
        self.cash = 0.0
        self.shares = np.zeros(len(codes))
        self.prices = np.zeros(len(codes))

    @property
    def total_value(self) -> float:
        """Cash plus shares at the day's close (a missing close counts as 0); computed on demand."""
        return self.cash + float(np.nansum(self.prices * self.shares))

    @property
    def positions(self) -> dict[str, float]:
        held = np.flatnonzero(self.shares)
        return {self._codes[i]: float(self.shares[i]) for i in held}


class Bars:
    """The day's bars; `bars.close` etc. are Series indexed by code, built on first access."""

    def __init__(self, index: pd.Index, fields: list[str], values: np.ndarray) -> None:
        self._index = index
        self._fields = {f: j for j, f in enumerate(fields)}
        self._values = values
        self._cache: dict[str, pd.Series] = {}

    def __getattr__(self, name: str) -> pd.Series:
        if name.startswith("_") or name not in self._fields:
            raise AttributeError(f"no field '{name}' in bars (fields: {', '.join(self._fields)})")
        if name not in self._cache:
            self._cache[name] = pd.Series(self._values[:, self._fields[name]], index=self._index, name=name)
        return self._cache[name]

    def __getitem__(self, name: str) -> pd.Series:
        return self.__getattr__(name)


class Context:
    """What initialize/handle_bar receive; users may hang their own attributes on it."""

    def __init__(self, codes: list[str], params: dict[str, Any]) -> None:
        self.universe = list(codes)
        self.params = dict(params)
        self.portfolio = Portfolio(codes)
        self.current_dt = ""


class Runtime:
    """Per-run state: seen days, the order book of the current day, the functions exposed to user code."""

    def __init__(self, codes: list[str], fields: list[str], params: dict[str, Any]) -> None:
        self.codes = codes
        self.fields = fields
        self.index = pd.Index(codes, name="code")
        self.position = {c: i for i, c in enumerate(codes)}
        self.close_col = fields.index("close") if "close" in fields else 0
        self.context = Context(codes, params)
        self.seen: list[np.ndarray] = []
        self.dates: list[str] = []
        self.orders: list[list[Any]] = []

    def start_day(self, date: str, bars: np.ndarray, cash: float, shares: np.ndarray) -> Bars:
        self.seen.append(bars)
        self.dates.append(date)
        self.orders = []
        folio = self.context.portfolio
        folio.cash, folio.shares, folio.prices = cash, shares, bars[:, self.close_col]
        self.context.current_dt = date
        return Bars(self.index, self.fields, bars)

    def history(self, codes: list[str] | str, field: str, n: int) -> pd.DataFrame:
        """Last `n` seen days (today included) of `field`, rows by date, columns by code."""
        wanted = [codes] if isinstance(codes, str) else list(codes)
        cols = [self._index_of(c) for c in wanted]
        j = self.fields.index(field)
        days = self.seen[-int(n):] if n > 0 else []
        block = np.array([d[cols, j] for d in days]).reshape(len(days), len(cols))
        return pd.DataFrame(block, index=pd.Index(self.dates[len(self.dates) - len(days):], name="date"),
                            columns=pd.Index(wanted, name="code"))

    def _index_of(self, code: str) -> int:
        if code not in self.position:
            raise KeyError(f"unknown code '{code}' (not in the universe)")
        return self.position[code]

    def _order(self, kind: str, code: str, amount: float) -> None:
        self.orders.append([self._index_of(code), ORDER_KINDS.index(kind), float(amount)])

    def user_globals(self) -> dict[str, Any]:
        """The names a strategy module starts with."""
        return {
            "np": np, "pd": pd, "history": self.history,
            "order_shares": lambda code, amount: self._order("shares", code, amount),
            "order_value": lambda code, value: self._order("value", code, value),
            "order_target_shares": lambda code, target: self._order("target_shares", code, target),
            "order_target_percent": lambda code, pct: self._order("target_percent", code, pct),
        }
