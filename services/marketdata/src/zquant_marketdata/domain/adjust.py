"""Price adjustment (复权) on read, vectorised with numpy; prices are stored raw.

Follows Tushare's `pro_bar`:

* hfq (后复权): ``price × adj_factor``.
* qfq (前复权): ``price × adj_factor / base``, where ``base`` is the stock's factor on the last
  trade date ≤ the base date (pro_bar's base is the latest factor of the queried range, i.e. our
  default base date = the range's end).
* open, high, low, close and pre_close are adjusted (pre_close with the *same day's* factor, so
  the day's return is unchanged); ``change = close − pre_close`` and ``pct_chg = change /
  pre_close × 100`` are recomputed from the adjusted prices, as pro_bar does; vol and amount are
  left alone.
* A bar whose own factor is missing takes the stock's last known factor before it (pro_bar's
  fill, in time order). With no factor at or before a bar, the caller must fail: silently
  leaving one bar unadjusted would put a fake jump into the series.
* Rounding is opt-in: `round_like_pro_bar` gives exactly pro_bar's ``'%.2f' % x``.

Dates are ``datetime64[D]`` arrays; a code is an integer index into some code list.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import numpy as np

PRICE_FIELDS = ("open", "high", "low", "close", "pre_close")
RECOMPUTED_FIELDS = ("change", "pct_chg")


class AdjustMode(enum.Enum):
    NONE = "none"
    QFQ = "qfq"
    HFQ = "hfq"


_DAY_BITS = 32


def _keys(codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """One sortable int64 per (code, day): code in the high bits, day (offset to be ≥ 0) below."""
    offset_days = days.astype("datetime64[D]").astype(np.int64) + (1 << (_DAY_BITS - 1))
    return (codes.astype(np.int64) << _DAY_BITS) | offset_days


def asof_factors(
    bar_codes: np.ndarray,
    bar_days: np.ndarray,
    factor_codes: np.ndarray,
    factor_days: np.ndarray,
    factor_values: np.ndarray,
) -> np.ndarray:
    """Per bar, the factor of the same code on the latest factor day ≤ the bar's day (NaN if none).

    Factor rows with a NaN value are ignored, so a missing factor falls back to the previous one.
    The factor rows may come in any order; O((n + m) log m), no Python loop per row.
    """
    values = np.asarray(factor_values, dtype=np.float64)
    known = ~np.isnan(values)
    factor_keys = _keys(np.asarray(factor_codes)[known], np.asarray(factor_days)[known])
    values = values[known]
    order = np.argsort(factor_keys, kind="stable")
    factor_keys, values = factor_keys[order], values[order]
    bar_keys = _keys(np.asarray(bar_codes), np.asarray(bar_days))
    position = np.searchsorted(factor_keys, bar_keys, side="right") - 1
    found = position >= 0
    clipped = np.where(found, position, 0)
    if factor_keys.size:
        same_code = (factor_keys[clipped] >> _DAY_BITS) == (bar_keys >> _DAY_BITS)
        found &= same_code
        result = np.where(found, values[clipped] if values.size else np.nan, np.nan)
    else:
        result = np.full(bar_keys.shape, np.nan)
    return result


def scale(mode: AdjustMode, factors: np.ndarray, base: np.ndarray | float | None = None) -> np.ndarray | None:
    """The multiplier per value: None for no adjustment, ``factors`` for hfq, ``factors / base`` for qfq."""
    if mode is AdjustMode.NONE:
        return None
    if mode is AdjustMode.HFQ:
        return np.asarray(factors, dtype=np.float64)
    if base is None:
        raise ValueError("qfq needs a base factor")
    return np.asarray(factors, dtype=np.float64) / base


def adjust(
    mode: AdjustMode,
    values: Mapping[str, np.ndarray],
    multiplier: np.ndarray | None,
    *,
    round_prices: bool = False,
) -> dict[str, np.ndarray]:
    """Adjusted copies of ``values`` (any same-shaped arrays: bar rows or a code × date panel).

    Price fields are multiplied; change / pct_chg are recomputed when present and both close
    and pre_close are given; everything else passes through. With ``round_prices`` the prices
    (and the recomputed change / pct_chg) are rounded to 2 decimals like pro_bar.
    """
    out = dict(values)
    if mode is not AdjustMode.NONE:
        if multiplier is None:
            raise ValueError(f"{mode.value} needs a multiplier")
        for name in PRICE_FIELDS:
            if name in out:
                out[name] = out[name] * multiplier
    if round_prices:
        for name in PRICE_FIELDS:
            if name in out:
                out[name] = round_like_pro_bar(out[name])
    if mode is not AdjustMode.NONE and "close" in out and "pre_close" in out:
        change = out["close"] - out["pre_close"]
        with np.errstate(divide="ignore", invalid="ignore"):
            pct_chg = change / out["pre_close"] * 100.0
        if "change" in out:
            out["change"] = round_like_pro_bar(change) if round_prices else change
        if "pct_chg" in out:
            out["pct_chg"] = round_like_pro_bar(pct_chg) if round_prices else pct_chg
    elif round_prices:
        for name in RECOMPUTED_FIELDS:
            if name in out:
                out[name] = round_like_pro_bar(out[name])
    return out


def round_like_pro_bar(values: np.ndarray) -> np.ndarray:
    """Round to 2 decimals exactly as pro_bar's ``float('%.2f' % x)``.

    ``np.round`` scales by 100 first, which can land an ulp off a tie and round the other way;
    ``'%.2f'`` rounds the exact binary value. numpy does the bulk, and the few values within a
    hair of a tie are redone with ``'%.2f'`` itself.
    """
    values = np.asarray(values, dtype=np.float64)
    rounded = np.round(values, 2)
    scaled = values * 100.0
    near_tie = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6
    near_tie &= np.isfinite(values)
    if near_tie.any():
        flat_values = values[near_tie]
        rounded[near_tie] = np.array([float(f"{x:.2f}") for x in flat_values.tolist()])
    return rounded

