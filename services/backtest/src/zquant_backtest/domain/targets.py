"""From money and targets to signed share orders, the one conversion both engines use (so that the same targets
give the same orders, to the share). Quantities are not rounded to lots here: the fill kernel does that by the
dated board rules and records the cut."""

from __future__ import annotations

import math

import numpy as np

from zquant_backtest.domain.arrays import FloatArray, IntArray, zero_nan


def shares_for_value(value: FloatArray, price: FloatArray) -> IntArray:
    """Whole shares worth at most ``|value|`` at ``price``, signed like ``value``; 0 where the price is unknown."""
    usable = np.isfinite(price) & (price > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(usable, np.trunc(value / np.where(usable, price, 1.0) + 1e-9 * np.sign(value)), 0.0)
    return shares.astype(np.int64)


def shares_for_one(value: float, price: float) -> int:
    """``shares_for_value`` for one code, in plain floats (the same IEEE arithmetic, so the same shares)."""
    value, price = float(value), float(price)
    if not (math.isfinite(price) and price > 0):
        return 0
    return math.trunc(value / price + 1e-9 * math.copysign(1.0, value) * (value != 0))


def target_orders(target_shares: IntArray, held: IntArray) -> IntArray:
    orders: IntArray = (target_shares - held).astype(np.int64)
    return orders


def target_weight_orders(
    weights: FloatArray, total_value: float, price: FloatArray, held: IntArray
) -> IntArray:
    """Orders taking every code to ``weight × total_value`` at ``price``; a weight of 0 (or NaN) sells the whole
    position even when the price is unknown, a code with another weight and no price is left alone."""
    clean = zero_nan(weights)
    target = np.where(clean == 0.0, 0, shares_for_value(clean * total_value, price))
    priced = np.isfinite(price) & (price > 0)
    orders: IntArray = np.where(priced | (clean == 0.0), target_orders(target, held), 0).astype(np.int64)
    return orders
