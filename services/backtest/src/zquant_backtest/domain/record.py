"""The day-by-day record of a run, kept compactly: the equity curve per day, and fills, refusals and positions as
sparse rows (date index, code index, values) rather than dates × codes matrices."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zquant_backtest.domain.arrays import FloatArray, IntArray
from zquant_backtest.domain.day import DayResult
from zquant_backtest.domain.ledger import Ledger
from zquant_backtest.domain.orders import FillColumns, Reason


@dataclass(frozen=True, eq=False)
class FillRows(FillColumns):
    """Every fill of the run, one row each, on day index ``day`` for code index ``code``."""

    day: IntArray
    code: IntArray


@dataclass(frozen=True, eq=False)
class RefusalRows:
    day: IntArray
    code: IntArray
    reason: IntArray
    """``orders.Reason`` values."""
    requested: IntArray
    remaining: IntArray


@dataclass(frozen=True, eq=False)
class PositionRows:
    """Shares held at each day's close, one row per (day, code) with a position."""

    day: IntArray
    code: IntArray
    qty: IntArray


@dataclass(frozen=True, eq=False)
class EquityCurve:
    nav: FloatArray
    cash: FloatArray
    market_value: FloatArray
    benchmark_nav: FloatArray | None


_FILL_FIELDS = ("qty", "price", "base_price", "commission", "stamp_duty", "transfer_fee", "slippage")
_REFUSAL_FIELDS = ("index", "reason", "requested", "remaining")


@dataclass
class Recorder:
    """Collects each day's rows column by column; the row sets are concatenated once at the end."""

    _fills: dict[str, list[FloatArray | IntArray]] = field(default_factory=dict)
    _refusals: dict[str, list[FloatArray | IntArray]] = field(default_factory=dict)
    _positions: dict[str, list[FloatArray | IntArray]] = field(default_factory=dict)
    _nav: list[tuple[float, float, float]] = field(default_factory=list)

    def day(self, t: int, result: DayResult, ledger: Ledger) -> None:
        fills = result.fills
        traded = fills.qty.nonzero()[0]
        if traded.size:
            _add(self._fills, t, traded, {name: getattr(fills, name)[traded] for name in _FILL_FIELDS})
        refused = fills.refusals
        if refused.index.size:
            columns = {name: getattr(refused, name) for name in _REFUSAL_FIELDS[1:]}
            _add(self._refusals, t, refused.index, columns)
        held = ledger.qty.nonzero()[0]
        if held.size:
            _add(self._positions, t, held, {"qty": ledger.qty[held]})
        self._nav.append((result.nav.nav, result.nav.cash, result.nav.market_value))

    def refuse_at_placement(self, t: int, refused: list[tuple[int, int, Reason]]) -> None:
        """Orders refused when they were placed on day ``t`` (outside the universe, no price)."""
        if not refused:
            return
        codes, requested, reason = (np.array(column, dtype=np.int64) for column in zip(*refused, strict=True))
        columns = {"reason": reason, "requested": requested, "remaining": np.zeros_like(codes)}
        _add(self._refusals, t, codes, dict(columns))

    def fills(self) -> FillRows:
        rows = _rows(self._fills, _FILL_FIELDS)
        columns = {name: rows[name].astype(np.float64) for name in _FILL_FIELDS[1:]}
        day, code, qty = (rows[name].astype(np.int64) for name in ("day", "code", "qty"))
        return FillRows(qty=qty, **columns, day=day, code=code)

    def refusals(self) -> RefusalRows:
        rows = _rows(self._refusals, _REFUSAL_FIELDS[1:])
        return RefusalRows(*(rows[name].astype(np.int64) for name in ("day", "code", *_REFUSAL_FIELDS[1:])))

    def positions(self) -> PositionRows:
        rows = _rows(self._positions, ("qty",))
        day, code, qty = (rows[name].astype(np.int64) for name in ("day", "code", "qty"))
        return PositionRows(day, code, qty)

    def equity(self, benchmark_close: FloatArray | None, initial: float) -> EquityCurve:
        nav, cash, value = (np.array(column, dtype=np.float64) for column in zip(*self._nav, strict=True))
        benchmark = None if benchmark_close is None else initial * benchmark_close / benchmark_close[0]
        return EquityCurve(nav=nav, cash=cash, market_value=value, benchmark_nav=benchmark)


def _add(
    store: dict[str, list[FloatArray | IntArray]],
    t: int,
    codes: IntArray,
    columns: dict[str, FloatArray | IntArray],
) -> None:
    store.setdefault("day", []).append(np.full(codes.size, t, dtype=np.int64))
    store.setdefault("code", []).append(codes.astype(np.int64))
    for name, values in columns.items():
        store.setdefault(name, []).append(values)


def _rows(
    store: dict[str, list[FloatArray | IntArray]], names: tuple[str, ...]
) -> dict[str, FloatArray | IntArray]:
    """Concatenated columns; empty int columns when nothing was recorded (``astype`` fixes the float ones)."""
    rows: dict[str, FloatArray | IntArray] = {}
    for name in ("day", "code", *names):
        parts = store.get(name)
        joined: IntArray = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        rows[name] = joined
    return rows
