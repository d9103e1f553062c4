"""What a strategy author writes against, JoinQuant / RQAlpha style: ``initialize(context)``,
``handle_bar(context, bars)`` and optional ``before_trading`` / ``after_trading``; ``context.portfolio``,
``context.now``, ``context.params``, ``context.history``, ``context.factor`` and the ``order_*`` functions.

Orders are requests: the engine resolves them at placement against the latest close the decision could see and
fills them on the next bar through the rules core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from zquant_backtest.application.by_code import ByCode
from zquant_backtest.application.strategy_port import DayView, PortfolioSnapshot, StrategySetup
from zquant_backtest.domain.order_book import OrderKind, OrderRequest
from zquant_backtest.domain.params import Param, ParamValue


@dataclass(frozen=True)
class Position:
    total_qty: int
    sellable_qty: int
    avg_cost: float
    """Per share, buy fees included."""
    market_value: float


class Portfolio:
    def __init__(self, snapshot: PortfolioSnapshot, columns: dict[str, int], codes: tuple[str, ...]) -> None:
        self._snapshot, self._columns, self._codes = snapshot, columns, codes
        self.cash = snapshot.cash
        self.total_value = snapshot.total_value
        self.quantities = ByCode(snapshot.qty, columns)
        """Shares held per code, vectorised."""
        self.sellable = ByCode(snapshot.sellable, columns)

    @property
    def positions(self) -> dict[str, Position]:
        """Every code held, by code."""
        snapshot = self._snapshot
        basis = snapshot.cost_basis()
        held = np.flatnonzero(snapshot.qty)
        return {
            self._codes[i]: Position(
                total_qty=int(snapshot.qty[i]),
                sellable_qty=int(snapshot.sellable[i]),
                avg_cost=float(basis[i] / snapshot.qty[i]),
                market_value=float(snapshot.qty[i] * np.nan_to_num(snapshot.price[i])),
            )
            for i in held.tolist()
        }


class Bars:
    """Today's bars over the whole universe: ``bars.close`` is a vector indexed by position or by code."""

    def __init__(self, view: DayView, columns: dict[str, int]) -> None:
        self._view, self._columns = view, columns

    def __getattr__(self, field: str) -> ByCode:
        if field.startswith("_"):
            raise AttributeError(field)
        return ByCode(self._view.market.latest(field), self._columns)


class Context:
    """One per run; the engine's view of the day is swapped in before each callback."""

    def __init__(self, setup: StrategySetup) -> None:
        self.codes = setup.codes
        self.params: dict[str, ParamValue] = dict(setup.params)
        self.start, self.end = setup.start, setup.end
        self._columns = {code: i for i, code in enumerate(setup.codes)}
        self._view: DayView | None = None
        self._requests: list[OrderRequest] = []
        self._next_id = 1

    def begin(self, view: DayView) -> None:
        self._view, self._requests = view, []

    def requests(self) -> list[OrderRequest]:
        return self._requests

    @property
    def view(self) -> DayView:
        if self._view is None:
            raise RuntimeError("market data and orders are available from the first trading day on")
        return self._view

    @property
    def now(self) -> date:
        return self.view.now

    @property
    def portfolio(self) -> Portfolio:
        return Portfolio(self.view.portfolio, self._columns, self.codes)

    @property
    def universe(self) -> list[str]:
        """The codes that may be bought today."""
        return [self.codes[i] for i in np.flatnonzero(self.view.eligible).tolist()]

    def bars(self) -> Bars:
        return Bars(self.view, self._columns)

    def history(self, codes: Sequence[str] | str | None, field: str, n: int) -> npt.NDArray[Any]:
        """The last ``n`` bars up to and including today (up to yesterday before the open), oldest first:
        ``n × len(codes)``, or a vector for one code."""
        if isinstance(codes, str):
            return self.view.market.history(field, n, np.array([self._column(codes)]))[:, 0]
        columns = None if codes is None else np.array([self._column(c) for c in codes], dtype=np.int64)
        return self.view.market.history(field, n, columns)

    def factor(self, name: str) -> ByCode:
        return ByCode(self.view.factor(name), self._columns)

    def order_shares(self, code: str, shares: int) -> int:
        return self._place(OrderKind.SHARES, code, shares)

    def order_value(self, code: str, value: float) -> int:
        return self._place(OrderKind.VALUE, code, value)

    def order_target_shares(self, code: str, shares: int) -> int:
        return self._place(OrderKind.TARGET_SHARES, code, shares)

    def order_target_value(self, code: str, value: float) -> int:
        return self._place(OrderKind.TARGET_VALUE, code, value)

    def order_target_percent(self, code: str, percent: float) -> int:
        """``percent`` of the total value, as a fraction (0.1 = 10%)."""
        return self._place(OrderKind.TARGET_PERCENT, code, percent)

    def order_target_weights(self, weights: Mapping[str, float] | npt.NDArray[np.float64]) -> int:
        """Every code to its weight of the total value; codes left out go to 0."""
        if isinstance(weights, Mapping):
            vector = np.zeros(len(self.codes))
            for code, weight in weights.items():
                vector[self._column(code)] = weight
        else:
            vector = np.asarray(weights, dtype=np.float64)
        return self._add(OrderKind.TARGET_WEIGHTS, weights=vector)

    def cancel_order(self, order_id: int) -> None:
        """Cancel an order not yet filled: one placed today, or (in ``before_trading``) one of yesterday's."""
        self._add(OrderKind.CANCEL, cancels=order_id)

    def _place(self, kind: OrderKind, code: str, amount: float) -> int:
        return self._add(kind, code=self._column(code), amount=float(amount))

    def _add(self, kind: OrderKind, **fields: Any) -> int:
        if self._view is None:
            raise RuntimeError("orders can be placed from the first trading day on")
        order_id, self._next_id = self._next_id, self._next_id + 1
        self._requests.append(OrderRequest(id=order_id, kind=kind, **fields))
        return order_id

    def _column(self, code: str) -> int:
        if code not in self._columns:
            raise KeyError(f"{code} is not in the universe")
        return self._columns[code]


class Strategy:
    """Base of an in-process strategy: declare ``params_schema``, override the callbacks you need."""

    params_schema: Sequence[Param] = ()

    def initialize(self, context: Context) -> None:
        """Called once before the first day."""

    def handle_bar(self, context: Context, bars: Bars) -> None:
        """Called at each day's close."""
