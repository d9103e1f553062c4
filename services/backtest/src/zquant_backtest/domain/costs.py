"""Trading costs of one order: broker commission (rate with a per-order minimum), stamp duty and CSDC transfer fee
per the dated rules. Each fee is rounded half-up to the cent, as brokers bill them. Slippage is not a fee: it moves
the fill price (see ``fills``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, CodeArray, FloatArray, IntArray
from zquant_backtest.domain.cost_kernel import compiled_fees
from zquant_backtest.domain.rules import DayRules


@dataclass(frozen=True)
class CommissionModel:
    rate: float = 0.00025
    minimum: float = 5.0


@dataclass(frozen=True, eq=False)
class Costs:
    commission: FloatArray
    stamp_duty: FloatArray
    transfer_fee: FloatArray

    @property
    def total(self) -> FloatArray:
        return self.commission + self.stamp_duty + self.transfer_fee


def order_costs(
    qty: IntArray,
    price: FloatArray,
    is_buy: BoolArray,
    exchanges: CodeArray,
    rules: DayRules,
    commission: CommissionModel,
) -> Costs:
    """Costs of filled orders (``qty`` > 0 shares, unsigned); orders with nothing filled cost nothing. Each fee is
    ``round_half_up_cents`` of its formula (compiled in ``cost_kernel``); the commission has its minimum per
    order, the transfer fee its per-share part (with a minimum) where the exchange charges one."""
    broker, stamp, fee = compiled_fees(
        qty,
        price,
        is_buy,
        exchanges,
        (rules.stamp_buy, rules.stamp_sell),
        (rules.transfer_per_share, rules.transfer_minimum, rules.transfer_rate),
        (commission.rate, commission.minimum),
    )
    return Costs(commission=broker, stamp_duty=stamp, transfer_fee=fee)


def affordable_shares(
    cash: FloatArray,
    price: FloatArray,
    exchanges: CodeArray,
    rules: DayRules,
    commission: CommissionModel,
) -> FloatArray:
    """Largest (real) share count whose value plus buy costs fits in ``cash``, before lot rounding and cent rounding.

    Costs are a sum of maxima of linear terms, so ``cost(q) <= cash`` holds exactly when every combination of the
    terms does; each combination bounds ``q`` linearly and the answer is the tightest bound."""
    per_share_fee = rules.transfer_per_share[exchanges]
    fee_min = np.where(per_share_fee > 0, rules.transfer_minimum[exchanges], 0.0)
    proportional = price * (1.0 + rules.stamp_buy + rules.transfer_rate[exchanges])
    bounds = []
    for broker_rate, broker_fixed in ((commission.rate, 0.0), (0.0, commission.minimum)):
        for fee_per_share, fee_fixed in ((per_share_fee, 0.0), (0.0, fee_min)):
            slope = proportional + price * broker_rate + fee_per_share
            bounds.append((cash - broker_fixed - fee_fixed) / slope)
    tightest: FloatArray = np.maximum(np.minimum.reduce(bounds), 0.0)
    return tightest
