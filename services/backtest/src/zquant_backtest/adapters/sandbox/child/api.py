"""The per-day strategy API user code sees, JoinQuant style: context, portfolio, bars, history, factors, order_*.

Orders are only recorded here as (code index, kind, amount); the trusted engine applies the rules.
`history()` serves only rows the child has already been sent, so there is no look-ahead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .framing import ORDER_KINDS


class Portfolio:
    """Cash, total value and positions as the engine saw them when the callback was called."""

    def __init__(self, codes: list[str]) -> None:
        self._codes = codes
        self.cash = 0.0
        self.total_value = 0.0
        self.shares = np.zeros(len(codes))
        self.sellable = np.zeros(len(codes))

    @property
    def positions(self) -> dict[str, float]:
        """Shares held, by code (codes not held are left out)."""
        held = np.flatnonzero(self.shares)
        return {self._codes[i]: float(self.shares[i]) for i in held}


class Bars:
    """The latest visible bars; `bars.close` etc. are Series indexed by code, built on first access."""

    def __init__(self, index: pd.Index, fields: list[str], values: np.ndarray) -> None:
        self._index = index
        self._fields = {f: j for j, f in enumerate(fields)}
        self._values = values
        self._cache: dict[str, pd.Series] = {}

    def __getattr__(self, name: str) -> pd.Series:
        if name.startswith("_") or name not in self._fields:
            raise AttributeError(f"no field '{name}' in bars (fields: {', '.join(self._fields)})")
        if name not in self._cache:
            self._cache[name] = pd.Series(self._values[self._fields[name]], index=self._index, name=name)
        return self._cache[name]

    def __getitem__(self, name: str) -> pd.Series:
        return self.__getattr__(name)


class Context:
    """What the callbacks receive; users may hang their own attributes on it."""

    def __init__(self, runtime: Runtime, params: dict[str, Any]) -> None:
        self._runtime = runtime
        self.universe = list(runtime.codes)
        self.params = dict(params)
        self.portfolio = Portfolio(runtime.codes)
        self.current_dt = ""
        self.phase = ""

    @property
    def eligible(self) -> pd.Series:
        """Codes that may be bought today (True); buys of the others are refused."""
        return self._runtime.eligible()

    def factor(self, name: str) -> pd.Series:
        """Today's values of a factor declared in FACTORS, by code (NaN where missing)."""
        return self._runtime.factor(name)


class Runtime:
    """Per-run state: the rows seen so far, the current order list, the functions exposed to user code."""

    def __init__(self, codes: list[str], fields: list[str], factors: list[str], params: dict[str, Any]) -> None:
        self.codes, self.fields, self.factors = codes, fields, factors
        self.index = pd.Index(codes, name="code")
        self.position = {c: i for i, c in enumerate(codes)}
        self.context = Context(self, params)
        self.seen = np.empty((64, len(fields), len(codes)))
        self.dates = np.empty(64, dtype="datetime64[ns]")
        self.rows = 0
        self.today_factors = np.empty((len(factors), len(codes)))
        self.today_eligible = np.zeros(len(codes), dtype=bool)
        self.orders: list[list[Any]] = []

    def add_rows(self, dates: list[str], block: np.ndarray) -> None:
        """Append newly visible rows (rows x fields x codes) to what history() may serve."""
        need = self.rows + len(dates)
        if need > len(self.seen):
            size = max(need, 2 * len(self.seen))
            grown, grown_dates = np.empty((size, *self.seen.shape[1:])), np.empty(size, dtype=self.dates.dtype)
            grown[: self.rows], grown_dates[: self.rows] = self.seen[: self.rows], self.dates[: self.rows]
            self.seen, self.dates = grown, grown_dates
        self.seen[self.rows : need] = block
        self.dates[self.rows : need] = np.array(dates, dtype="datetime64[D]")
        self.rows = need

    def start_call(self, header: dict[str, Any], vectors: np.ndarray, factors: np.ndarray) -> Bars:
        """Swap in the callback's view: vectors = qty, sellable, eligible; factors = declared factors x codes."""
        self.orders = []
        context = self.context
        context.current_dt, context.phase = str(header["d"]), str(header["ph"])
        folio = context.portfolio
        folio.cash, folio.total_value = float(header["c"]), float(header["v"])
        folio.shares, folio.sellable = vectors[0], vectors[1]
        self.today_eligible = vectors[2] > 0
        self.today_factors = factors
        latest = self.seen[self.rows - 1] if self.rows else np.full((len(self.fields), len(self.codes)), np.nan)
        return Bars(self.index, self.fields, latest)

    def eligible(self) -> pd.Series:
        return pd.Series(self.today_eligible, index=self.index, name="eligible")

    def factor(self, name: str) -> pd.Series:
        if name not in self.factors:
            raise KeyError(f"factor '{name}' is not declared in FACTORS (declared: {', '.join(self.factors)})")
        return pd.Series(self.today_factors[self.factors.index(name)], index=self.index, name=name)

    def history(self, codes: list[str] | str, field: str, n: int) -> pd.DataFrame:
        """Last `n` seen rows of `field`, rows by date (a DatetimeIndex), columns by code (a copy: the history
        stays intact)."""
        if field not in self.fields:
            raise KeyError(f"no field '{field}' (fields: {', '.join(self.fields)})")
        first = max(self.rows - int(n), 0) if n > 0 else self.rows
        rows = self.seen[first : self.rows, self.fields.index(field)]
        if not isinstance(codes, str) and list(codes) == self.codes:
            block, columns = rows.copy(), self.index  # the whole universe: no per-code lookup
        else:
            wanted = [codes] if isinstance(codes, str) else list(codes)
            block, columns = rows[:, [self._index_of(c) for c in wanted]], pd.Index(wanted, name="code")
        dates = pd.DatetimeIndex(self.dates[first : self.rows], name="date")
        return pd.DataFrame(block, index=dates, columns=columns, copy=False)

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
            "order_target_value": lambda code, value: self._order("target_value", code, value),
            "order_target_percent": lambda code, pct: self._order("target_percent", code, pct),
        }
