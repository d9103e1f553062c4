"""Daily price limits: the exchange's own (``stk_limit``) where known, else computed from the dated board rules.

A computed limit is ``pre_close × (1 ± pct)`` rounded half-up to the cent, as SSE/SZSE publish it. The product is
done in integer cents × basis points, so 4.57 × 1.1 = 5.027 rounds to 5.03 and 10.05 × 1.1 = 11.055 to 11.06 with no
binary floating-point surprise. A day without limit has up = +inf and down = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, CodeArray, FloatArray, IntArray
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
    ``given_*`` (NaN where unknown) are the exchange's published limits and win wherever present."""
    pct = np.where(is_st, rules.st_limit_pct[boards], rules.limit_pct[boards])
    no_limit = (list_days <= rules.no_limit_days[boards]) | ~np.isfinite(pct)
    first_up = rules.first_day_up[boards]
    first_day_cap = (list_days == 1) & np.isfinite(first_up) & ~no_limit
    up_pct = np.where(first_day_cap, first_up, pct)
    down_pct = np.where(first_day_cap, rules.first_day_down[boards], pct)
    finite = ~no_limit & np.isfinite(pre_close)
    safe_pre = np.where(finite, pre_close, 0.0)
    up = np.where(finite, scaled_price(safe_pre, np.where(finite, up_pct, 0.0), +1), np.inf)
    down = np.where(finite, scaled_price(safe_pre, np.where(finite, down_pct, 0.0), -1), 0.0)
    if given_up is not None:
        up = np.where(np.isfinite(given_up), given_up, up)
    if given_down is not None:
        down = np.where(np.isfinite(given_down), given_down, down)
    return Limits(up=up, down=down)
