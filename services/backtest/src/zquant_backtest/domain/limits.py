"""Daily price limits: the exchange's own (``stk_limit``) where known, else computed from the dated board rules.

A computed limit is ``pre_close × (1 ± pct)`` rounded half-up to the cent, as SSE/SZSE publish it. The product is
done in integer cents × basis points, so 4.57 × 1.1 = 5.027 rounds to 5.03 and 10.05 × 1.1 = 11.055 to 11.06 with no
binary floating-point surprise. A day without limit has up = +inf and down = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, CodeArray, FloatArray, IntArray
from zquant_backtest.domain.limit_kernel import compiled_limits
from zquant_backtest.domain.rules import DayRules


def to_cents(price: FloatArray) -> IntArray:
    """Prices quoted to the cent, as exact integers (inputs carry at most float noise around two decimals)."""
    return np.rint(np.asarray(price, dtype=np.float64) * 100.0).astype(np.int64)


def round_half_up_cents(value: FloatArray) -> FloatArray:
    """Money rounded half-up to the cent; the 1e-6-cent nudge absorbs float noise (12.345 stored as 12.34499…)."""
    values = np.asarray(value, dtype=np.float64)
    return np.sign(values) * np.floor(np.abs(values) * 100.0 + 0.5 + 1e-6) / 100.0


def scaled_price(pre_close: FloatArray, pct: FloatArray, sign: int) -> FloatArray:
    """``pre_close × (1 + sign × pct)`` rounded half-up to the cent; ``pct`` must be finite."""
    basis_points = np.rint((1.0 + sign * np.asarray(pct, dtype=np.float64)) * 10_000.0).astype(np.int64)
    cents = (to_cents(pre_close) * basis_points + 5_000) // 10_000
    return cents.astype(np.float64) / 100.0


@dataclass(frozen=True, eq=False)
class Limits:
    up: FloatArray
    down: FloatArray


def price_limits(
    rules: DayRules,
    boards: CodeArray,
    pre_close: FloatArray,
    is_st: BoolArray,
    list_days: IntArray,
    given_up: FloatArray | None = None,
    given_down: FloatArray | None = None,
) -> Limits:
    """Limits for one day over the universe. ``list_days`` counts trading days since listing, 1 on the listing day;
    ``given_*`` (NaN where unknown) are the exchange's published limits and win wherever present. The per-code
    arithmetic (``scaled_price`` on the board's pct, or its first-day pct) is compiled in ``limit_kernel``."""
    up, down = compiled_limits(
        boards,
        pre_close,
        is_st,
        list_days,
        (given_up, given_down),
        (rules.limit_pct, rules.st_limit_pct, rules.no_limit_days, rules.first_day_up, rules.first_day_down),
    )
    return Limits(up=up, down=down)
