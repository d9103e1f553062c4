"""Fill one day's orders over the whole universe at once (numpy arrays, one slot per code).

Order of the rules: suspension → locked limit → position / T+1 → lots → volume cap → (buys) cash. Sells go first so
that their proceeds fund the same day's buys. Every rule that cuts an order appends a refusal row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, CodeArray, FloatArray, IntArray
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
        index = np.flatnonzero(after < before)
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


def fill_orders(
    on: date,
    orders: IntArray,
    bars: DayBars,
    universe: Universe,
    total_qty: IntArray,
    sellable_qty: IntArray,
    cash: float,
    settings: FillSettings,
) -> DayFills:
    """Fill ``orders`` (signed shares per code, decided the day before) on day ``on``'s bars."""
    if not orders.any():
        return _nothing(orders.size)
    rules = rules_on(on)
    limits = price_limits(
        rules, universe.boards, bars.pre_close, bars.is_st, bars.list_days, bars.up_limit, bars.down_limit
    )
    base = base_price(bars, settings.timing)
    tradable = bars.has_bar & (bars.volume > 0) & np.isfinite(base)
    cuts = _Cuts()
    minimum, step = rules.lot_minimum[universe.boards], rules.lot_step[universe.boards]
    cap = _volume_cap(bars, settings)
    slip = settings.slippage_bps / 10_000.0

    sell_price = np.clip(base * (1.0 - slip), limits.down, limits.up)
    sells = _sells(
        np.maximum(-orders, 0),
        tradable,
        base,
        bars,
        limits,
        total_qty,
        sellable_qty,
        minimum,
        step,
        cap,
        cuts,
    )
    sell_costs = order_costs(
        sells, sell_price, np.zeros(sells.shape, dtype=bool), universe.exchanges, rules, settings.commission
    )
    sell_flow = np.where(sells > 0, sells * sell_price - sell_costs.total, 0.0)

    buy_price = np.clip(base * (1.0 + slip), limits.down, limits.up)
    buys = np.maximum(orders, 0)
    buys = cuts.record(Reason.SUSPENDED, buys, np.where(tradable, buys, 0))
    buys = cuts.record(Reason.LIMIT_UP_LOCKED, buys, np.where(_locked(base, bars, limits.up, True), 0, buys))
    buys = cuts.record(Reason.LOT_SIZE, buys, lot_floor(buys, minimum, step))
    buys = cuts.record(Reason.VOLUME_CAP, buys, lot_floor(np.minimum(buys, cap), minimum, step))
    budget = cash + float(sell_flow.sum())
    buys = cuts.record(
        Reason.INSUFFICIENT_CASH,
        buys,
        _within_cash(buys, buy_price, budget, universe, rules, settings, minimum, step),
    )
    buy_costs = order_costs(
        buys, buy_price, np.ones(buys.shape, dtype=bool), universe.exchanges, rules, settings.commission
    )

    is_sell = sells > 0
    qty = np.where(is_sell, -sells, buys).astype(np.int64)
    price = np.where(is_sell, sell_price, np.where(buys > 0, buy_price, np.nan))
    traded = qty != 0
    return DayFills(
        qty=qty,
        price=price,
        base_price=np.where(traded, base, np.nan),
        commission=np.where(is_sell, sell_costs.commission, buy_costs.commission),
        stamp_duty=np.where(is_sell, sell_costs.stamp_duty, buy_costs.stamp_duty),
        transfer_fee=np.where(is_sell, sell_costs.transfer_fee, buy_costs.transfer_fee),
        slippage=np.where(traded, np.abs(qty) * np.abs(np.nan_to_num(price) - np.nan_to_num(base)), 0.0),
        cash_flow=np.where(
            is_sell, sell_flow, np.where(buys > 0, -(buys * buy_price + buy_costs.total), 0.0)
        ),
        refusals=cuts.refusals(),
    )


def _nothing(n: int) -> DayFills:
    zeros, missing = np.zeros(n), np.full(n, np.nan)
    return DayFills(
        np.zeros(n, dtype=np.int64), missing, missing, zeros, zeros, zeros, zeros, zeros, _Cuts().refusals()
    )


def _sells(
    wanted: IntArray,
    tradable: BoolArray,
    base: FloatArray,
    bars: DayBars,
    limits: Limits,
    total_qty: IntArray,
    sellable_qty: IntArray,
    minimum: IntArray,
    step: IntArray,
    cap: IntArray,
    cuts: _Cuts,
) -> IntArray:
    """Sell quantities after every rule; an odd lot passes only when it clears the whole position."""
    sells = cuts.record(Reason.NO_POSITION, wanted, np.where(total_qty > 0, wanted, 0))
    sells = cuts.record(Reason.SUSPENDED, sells, np.where(tradable, sells, 0))
    sells = cuts.record(
        Reason.LIMIT_DOWN_LOCKED, sells, np.where(_locked(base, bars, limits.down, False), 0, sells)
    )
    sells = cuts.record(Reason.T1_NOT_SELLABLE, sells, np.minimum(sells, sellable_qty))

    def whole(q: IntArray) -> IntArray:
        return np.where((q >= total_qty) & (q > 0), total_qty, lot_floor(q, minimum, step)).astype(np.int64)

    sells = cuts.record(Reason.LOT_SIZE, sells, whole(sells))
    return cuts.record(Reason.VOLUME_CAP, sells, whole(np.minimum(sells, cap)))


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
