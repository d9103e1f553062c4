"""Fill one day's orders over the whole universe at once (numpy arrays, one slot per code).

Order of the rules: suspension → locked limit → position / T+1 → lots → volume cap → (buys) cash. Sells go first so
that their proceeds fund the same day's buys. Every rule that cuts an order appends a refusal row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, CodeArray, FloatArray, IntArray, zero_nan
from zquant_backtest.domain.compact_fills import COMPACT_SHARE, gather_bars, scatter_fills
from zquant_backtest.domain.costs import affordable_shares, order_costs
from zquant_backtest.domain.limits import Limits, price_limits
from zquant_backtest.domain.orders import DayBars, DayFills, FillSettings, Reason, Refusals, Timing
from zquant_backtest.domain.rules import DayRules, rules_on

_PRICE_TOLERANCE = 1e-6
_CENT_ROUNDING_MARGIN = 0.02
"""Kept back per order from a cash budget: three fees each rounded up by at most half a cent."""


@dataclass(frozen=True, eq=False)
class Universe:
    boards: CodeArray
    exchanges: CodeArray


@dataclass
class _Cuts:
    rows: list[tuple[IntArray, IntArray, IntArray, IntArray]] = field(default_factory=list)

    def record(self, reason: Reason, before: IntArray, after: IntArray) -> IntArray:
        index = (after < before).nonzero()[0]
        if index.size:
            self.rows.append((index, np.full(index.size, int(reason)), before[index], after[index]))
        return after

    def refusals(self) -> Refusals:
        if not self.rows:
            empty = np.zeros(0, dtype=np.int64)
            return Refusals(empty, empty, empty, empty)
        index, reason, requested, remaining = (
            np.concatenate(part).astype(np.int64) for part in zip(*self.rows)
        )
        order = np.argsort(index, kind="stable")
        return Refusals(index[order], reason[order], requested[order], remaining[order])


def base_price(bars: DayBars, timing: Timing) -> FloatArray:
    """The fill day's price before slippage; VWAP = amount·1000 / (vol·100) from Tushare's 千元 and 手."""
    if timing is Timing.OPEN:
        return bars.open
    if timing is Timing.CLOSE:
        return bars.close
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bars.volume > 0, bars.amount * 1000.0 / (bars.volume * 100.0), np.nan)


def lot_floor(qty: IntArray, minimum: IntArray, step: IntArray) -> IntArray:
    """Largest ``minimum + k·step`` not above ``qty``, or 0."""
    return np.where(qty >= minimum, minimum + (qty - minimum) // step * step, 0).astype(np.int64)


def _locked(price: FloatArray, bars: DayBars, limit: FloatArray, at_up: bool) -> BoolArray:
    """Fill price at the limit and the bar locked there: opened at it, or a one-price (一字) bar."""
    sign = 1.0 if at_up else -1.0

    def at(price_: FloatArray) -> BoolArray:
        reached: BoolArray = sign * (price_ - limit) >= -_PRICE_TOLERANCE
        return reached

    one_price = np.abs(bars.high - bars.low) <= _PRICE_TOLERANCE
    result: BoolArray = at(price) & (at(bars.open) | (one_price & at(bars.high)))
    return result


def _volume_cap(bars: DayBars, settings: FillSettings) -> IntArray:
    if settings.volume_cap is None:
        return np.full(bars.volume.shape, np.iinfo(np.int64).max, dtype=np.int64)
    return np.floor(bars.volume * 100.0 * settings.volume_cap + 1e-9).astype(np.int64)


@dataclass(frozen=True, eq=False)
class _Day:
    """What every rule of one fill day looks at."""

    bars: DayBars
    base: FloatArray
    tradable: BoolArray
    limits: Limits
    minimum: IntArray
    step: IntArray
    cap: IntArray
    cuts: _Cuts


def fill_orders(
    on: date,
    orders: IntArray,
    bars: DayBars,
    universe: Universe,
    total_qty: IntArray,
    sellable_qty: IntArray,
    cash: float,
    settings: FillSettings,
    compact: bool = True,
) -> DayFills:
    """Fill ``orders`` (signed shares per code, decided the day before) on day ``on``'s bars. ``compact``: when
    few codes have an order, run on those alone (same result, see ``compact_fills``)."""
    active = orders.nonzero()[0]
    if active.size == 0:
        return _nothing(orders.size)
    if compact and active.size <= COMPACT_SHARE * orders.size:
        few = fill_orders(
            on,
            orders[active],
            gather_bars(bars, active),
            Universe(universe.boards[active], universe.exchanges[active]),
            total_qty[active],
            sellable_qty[active],
            cash,
            settings,
            compact=False,
        )
        return scatter_fills(few, active, orders.size)
    rules = rules_on(on)
    limits = price_limits(
        rules, universe.boards, bars.pre_close, bars.is_st, bars.list_days, bars.up_limit, bars.down_limit
    )
    base = base_price(bars, settings.timing)
    day = _Day(
        bars=bars,
        base=base,
        tradable=bars.has_bar & (bars.volume > 0) & np.isfinite(base),
        limits=limits,
        minimum=rules.lot_minimum[universe.boards],
        step=rules.lot_step[universe.boards],
        cap=_volume_cap(bars, settings),
        cuts=_Cuts(),
    )
    slip = settings.slippage_bps / 10_000.0
    sell_price = np.minimum(np.maximum(base * (1.0 - slip), limits.down), limits.up)
    buy_price = np.minimum(np.maximum(base * (1.0 + slip), limits.down), limits.up)

    sells = _sells(day, np.maximum(-orders, 0), total_qty, sellable_qty)
    budget = cash + _proceeds(sells, sell_price, universe, rules, settings) if sells.any() else cash
    buys = _buys(day, np.maximum(orders, 0))
    buys = day.cuts.record(
        Reason.INSUFFICIENT_CASH,
        buys,
        _within_cash(buys, buy_price, budget, universe, rules, settings, day.minimum, day.step),
    )

    qty = np.where(sells > 0, -sells, buys).astype(np.int64)
    traded, is_buy = qty != 0, qty > 0
    price = np.where(qty < 0, sell_price, np.where(is_buy, buy_price, np.nan))
    costs = order_costs(np.abs(qty), price, is_buy, universe.exchanges, rules, settings.commission)
    value = np.where(traded, np.abs(qty) * zero_nan(price), 0.0)
    return DayFills(
        qty=qty,
        price=price,
        base_price=np.where(traded, base, np.nan),
        commission=costs.commission,
        stamp_duty=costs.stamp_duty,
        transfer_fee=costs.transfer_fee,
        slippage=np.where(traded, np.abs(qty) * np.abs(zero_nan(price) - zero_nan(base)), 0.0),
        cash_flow=np.where(is_buy, -value, value) - costs.total,
        refusals=day.cuts.refusals(),
    )


def _proceeds(
    sells: IntArray, price: FloatArray, universe: Universe, rules: DayRules, settings: FillSettings
) -> float:
    """What the day's sells bring in, net of their costs, to fund the same day's buys."""
    no_buys = np.zeros(sells.shape, dtype=bool)
    costs = order_costs(sells, price, no_buys, universe.exchanges, rules, settings.commission)
    return float(np.where(sells > 0, sells * price - costs.total, 0.0).sum())


def _nothing(n: int) -> DayFills:
    zeros, missing = np.zeros(n), np.full(n, np.nan)
    return DayFills(
        np.zeros(n, dtype=np.int64), missing, missing, zeros, zeros, zeros, zeros, zeros, _Cuts().refusals()
    )


def _sells(day: _Day, wanted: IntArray, total_qty: IntArray, sellable_qty: IntArray) -> IntArray:
    """Sell quantities after every rule; an odd lot passes only when it clears the whole position."""

    def whole(q: IntArray) -> IntArray:
        clears = (q >= total_qty) & (q > 0)
        return np.where(clears, total_qty, lot_floor(q, day.minimum, day.step)).astype(np.int64)

    locked = _locked(day.base, day.bars, day.limits.down, at_up=False)
    cuts = day.cuts
    sells = cuts.record(Reason.NO_POSITION, wanted, np.where(total_qty > 0, wanted, 0))
    sells = cuts.record(Reason.SUSPENDED, sells, np.where(day.tradable, sells, 0))
    sells = cuts.record(Reason.LIMIT_DOWN_LOCKED, sells, np.where(locked, 0, sells))
    sells = cuts.record(Reason.T1_NOT_SELLABLE, sells, np.minimum(sells, sellable_qty))
    sells = cuts.record(Reason.LOT_SIZE, sells, whole(sells))
    return cuts.record(Reason.VOLUME_CAP, sells, whole(np.minimum(sells, day.cap)))


def _buys(day: _Day, wanted: IntArray) -> IntArray:
    """Buy quantities after every rule but the cash check."""
    locked = _locked(day.base, day.bars, day.limits.up, at_up=True)
    cuts = day.cuts
    buys = cuts.record(Reason.SUSPENDED, wanted, np.where(day.tradable, wanted, 0))
    buys = cuts.record(Reason.LIMIT_UP_LOCKED, buys, np.where(locked, 0, buys))
    buys = cuts.record(Reason.LOT_SIZE, buys, lot_floor(buys, day.minimum, day.step))
    return cuts.record(Reason.VOLUME_CAP, buys, lot_floor(np.minimum(buys, day.cap), day.minimum, day.step))


def _within_cash(
    buys: IntArray,
    price: FloatArray,
    budget: float,
    universe: Universe,
    rules: DayRules,
    settings: FillSettings,
    minimum: IntArray,
    step: IntArray,
) -> IntArray:
    """Buys scaled down, all in the same proportion of their full cost, to whole lots the budget pays for; what the
    lot rounding leaves over then tops the cut orders up, one by one in universe order."""
    wanted = buys > 0
    if not wanted.any():
        return buys
    safe_price = np.where(wanted, price, 1.0)

    def cost_of(qty: IntArray, at: slice) -> FloatArray:
        fees = order_costs(
            qty, safe_price[at], wanted[at], universe.exchanges[at], rules, settings.commission
        )
        spent: FloatArray = np.where(qty > 0, qty * safe_price[at] + fees.total, 0.0)
        return spent

    def whole_lots(cash: FloatArray, at: slice) -> IntArray:
        can_pay = affordable_shares(cash, safe_price[at], universe.exchanges[at], rules, settings.commission)
        shares = np.minimum(buys[at], np.floor(can_pay + 1e-9).astype(np.int64))
        return np.where(wanted[at], lot_floor(shares, minimum[at], step[at]), 0).astype(np.int64)

    everything = slice(None)
    cost = cost_of(buys, everything)
    if cost.sum() <= budget:
        return buys
    share = np.where(wanted, max(budget, 0.0) * cost / cost.sum() - _CENT_ROUNDING_MARGIN, 0.0)
    scaled = whole_lots(share, everything)
    spent = cost_of(scaled, everything)
    left = budget - float(spent.sum())
    for index in np.flatnonzero(scaled < buys).tolist():
        one = slice(index, index + 1)
        more = whole_lots(spent[one] + left - _CENT_ROUNDING_MARGIN, one)
        extra = float(cost_of(more, one)[0] - spent[index])
        if more[0] > scaled[index] and extra <= left:
            scaled[index], spent[index], left = more[0], spent[index] + extra, left - extra
    return scaled
