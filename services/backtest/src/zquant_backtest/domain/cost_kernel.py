"""The per-order fee arithmetic of ``costs.order_costs`` compiled with numba: on a day's few orders the numpy
version is dominated by the overhead of its ~25 array calls. Same operations in the same order, no fastmath, so
every fee is bit-identical to the numpy formula (``limits.round_half_up_cents`` and friends)."""

from __future__ import annotations

import numba
import numpy as np

from zquant_backtest.domain.arrays import BoolArray, CodeArray, FloatArray, IntArray, kernel_input


@numba.njit("float64(float64)", cache=True)
def _cents(value: float) -> float:
    """``round_half_up_cents`` on one value, with numpy's ``sign`` (0 for ±0, NaN for NaN)."""
    sign = 1.0 if value > 0 else (-1.0 if value < 0 else (0.0 if value == 0 else value))
    cents: float = sign * np.floor(np.abs(value) * 100.0 + 0.5 + 1e-6) / 100.0
    return cents


@numba.njit(
    "void(int64[:], float64[:], boolean[:], int8[:], float64, float64, float64[:], float64[:], float64[:],"
    " float64, float64, float64[:], float64[:], float64[:])",
    cache=True,
)
def _fees(
    qty: IntArray,
    price: FloatArray,
    is_buy: BoolArray,
    exchanges: CodeArray,
    stamp_buy: float,
    stamp_sell: float,
    transfer_per_share: FloatArray,
    transfer_minimum: FloatArray,
    transfer_rate: FloatArray,
    rate: float,
    minimum: float,
    commission: FloatArray,
    stamp_duty: FloatArray,
    transfer_fee: FloatArray,
) -> None:
    for i in range(qty.size):
        if qty[i] <= 0:
            commission[i], stamp_duty[i], transfer_fee[i] = 0.0, 0.0, 0.0
            continue
        value = qty[i] * price[i]
        broker = _cents(value * rate)
        commission[i] = broker if broker >= minimum or broker != broker else minimum
        stamp_duty[i] = _cents(value * (stamp_buy if is_buy[i] else stamp_sell))
        exchange = exchanges[i]
        per_share_fee = transfer_per_share[exchange]
        per_share = qty[i] * per_share_fee
        floor = transfer_minimum[exchange]
        per_share = per_share if per_share >= floor or per_share != per_share else floor
        transfer_fee[i] = _cents((per_share if per_share_fee > 0 else 0.0) + value * transfer_rate[exchange])


def compiled_fees(
    qty: IntArray,
    price: FloatArray,
    is_buy: BoolArray,
    exchanges: CodeArray,
    stamps: tuple[float, float],
    transfer: tuple[FloatArray, FloatArray, FloatArray],
    commission: tuple[float, float],
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(commission, stamp duty, transfer fee) per order; ``transfer`` is (per share, minimum, rate) per exchange."""
    n = np.shape(qty)[0]
    out = np.empty((3, n))
    _fees(
        kernel_input(qty, np.int64),
        kernel_input(price, np.float64),
        kernel_input(is_buy, np.bool_),
        kernel_input(exchanges, np.int8),
        float(stamps[0]),
        float(stamps[1]),
        kernel_input(transfer[0], np.float64),
        kernel_input(transfer[1], np.float64),
        kernel_input(transfer[2], np.float64),
        float(commission[0]),
        float(commission[1]),
        out[0],
        out[1],
        out[2],
    )
    return out[0], out[1], out[2]
