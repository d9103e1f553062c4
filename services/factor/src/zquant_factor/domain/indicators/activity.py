"""The seed's hyper-activity family (超活跃组合因子): turnover MA, 'small cross' candles, active-day counts.

Daily flags, 1.0 or 0.0 (NaN on a suspended day), and their counts over the last N valid days:
- **small cross** (小十字): a narrow candle that closes near yesterday — with P = pre_close (the exchange's
  previous close, ex-rights adjusted):  (H − L)/P ≤ 3%,  |C − P|/P ≤ 1%  and  |C − O|/P ≤ 1%.
  The seed divided by the close and computed its change as (close − close)/close, so its change test always
  passed; every ratio here is against pre_close.
- **active turnover** (换手率成交额): turnover rate ≥ 10% and amount ≥ 1,000,000 千元 (10亿元).
- **half-year active** (半年活跃): active turnover on a day whose total market value is within
  [500,000, 2,000,000] 万元 (50亿–200亿元), counted over the last `half_year` valid days (default 120 ≈ six
  months of trading; the seed counted 180 calendar days, and its SQL used 1亿元 where its comment said 10亿元).
Warm-up (fewer than N valid days) is NaN, where the seed returned partial counts or 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.errors import check_period
from zquant_factor.domain.indicators.oscillators import as_bars
from zquant_factor.domain.indicators.recursions import Panel, rolling_mean, rolling_sum, shaped_like
from zquant_factor.domain.indicators.state import Computed, computed

SMALL_CROSS_RANGE = 0.03
SMALL_CROSS_CHANGE = 0.01
SMALL_CROSS_BODY = 0.01
ACTIVE_TURNOVER_PCT = 10.0
ACTIVE_AMOUNT_QIAN = 1_000_000.0  # 千元 = 10亿元
MARKET_VALUE_WAN = (500_000.0, 2_000_000.0)  # 万元 = 50亿–200亿元


def _flag(condition: NDArray[np.bool_], valid: NDArray[np.bool_]) -> Panel:
    return np.where(valid, condition.astype(np.float64), np.nan)


def small_cross(
    open_: Panel, high: Panel, low: Panel, close: Panel, pre_close: Panel
) -> Panel:  # fmt: skip
    """1.0 on a small-cross day (see the module docstring), 0.0 otherwise, NaN when suspended or P ≤ 0."""
    o, h, lo, c, p = as_bars(open=open_, high=high, low=low, close=close, pre_close=pre_close)
    valid = ~np.isnan(o + h + lo + c + p) & (p > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        candle = (
            ((h - lo) / p <= SMALL_CROSS_RANGE)
            & (np.abs(c - p) / p <= SMALL_CROSS_CHANGE)
            & (np.abs(c - o) / p <= SMALL_CROSS_BODY)
        )
    return shaped_like(_flag(candle, valid), close)


def active_turnover(turnover_rate: Panel, amount: Panel) -> Panel:
    """1.0 when turnover rate ≥ 10% and amount ≥ 10亿元 (amount in 千元), NaN when either is missing."""
    tr, amt = as_bars(turnover_rate=turnover_rate, amount=amount)
    with np.errstate(invalid="ignore"):
        flag = _flag((tr >= ACTIVE_TURNOVER_PCT) & (amt >= ACTIVE_AMOUNT_QIAN), ~np.isnan(tr + amt))
    return shaped_like(flag, turnover_rate)


def hyper_activity(
    open_: NDArray[np.floating],
    high: NDArray[np.floating],
    low: NDArray[np.floating],
    close: NDArray[np.floating],
    pre_close: NDArray[np.floating],
    amount: NDArray[np.floating],
    turnover_rate: NDArray[np.floating],
    total_mv: NDArray[np.floating],
    *,
    n: int = 20,
    half_year: int = 120,
) -> Computed:
    """The family for one window N: turnover MA, small-cross and active-turnover flags and their N-day counts,
    and the half-year active count."""
    n, half_year = check_period("n", n), check_period("half_year", half_year)
    o, h, lo, c, p, amt, tr, mv = as_bars(
        open=open_, high=high, low=low, close=close, pre_close=pre_close,
        amount=amount, turnover_rate=turnover_rate, total_mv=total_mv,
    )  # fmt: skip
    cross = small_cross(o, h, lo, c, p)
    active = active_turnover(tr, amt)
    with np.errstate(invalid="ignore"):
        sized = (mv >= MARKET_VALUE_WAN[0]) & (mv <= MARKET_VALUE_WAN[1])
    halfyear = np.where(np.isnan(mv), np.nan, active * sized)
    values = {
        "turnover_ma": rolling_mean(tr, n),
        "small_cross": cross,
        "small_cross_count": rolling_sum(cross, n),
        "active_turnover": active,
        "active_turnover_count": rolling_sum(active, n),
        "halfyear_active_count": rolling_sum(halfyear, half_year),
    }
    return computed(values, {}, like=close)
