"""MACD cross: buy a code when its DIF line crosses above the DEA signal line, sell it all when DIF crosses back
below. DIF = EMA(fast) − EMA(slow) of closes and DEA = EMA(signal) of DIF, exactly as TA-Lib computes them (each
EMA seeded with the mean of its first window), updated once a day per code; a suspended day is skipped."""

import numpy as np


def initialize(context):
    if context.params["fast"] >= context.params["slow"]:
        raise ValueError("fast must be shorter than slow")
    context.macd = None


def macd_state(n_codes, slow):
    """Per code: closes seen, the first `slow` of them (the seeds), both EMAs, and DEA's own EMA state."""
    zeros = np.zeros(n_codes)
    return {"count": zeros.copy(), "first": np.full((slow, n_codes), np.nan), "fast": zeros.copy(),
            "slow": zeros.copy(), "dea": ema_state(n_codes)}


def ema_state(n_codes):
    return {"count": np.zeros(n_codes), "sum": np.zeros(n_codes), "value": np.zeros(n_codes)}


def ema_step(state, values, period):
    """One step of TA-Lib's EMA per code: the mean of the first `period` values, then value += k·(x − value).
    NaN until seeded and on a NaN input, which leaves that code's state as it was."""
    seen = ~np.isnan(values)
    state["count"] = state["count"] + seen
    count = state["count"]
    state["sum"] = np.where(seen & (count <= period), state["sum"] + np.nan_to_num(values), state["sum"])
    k = 2.0 / (period + 1)
    moved = (values - state["value"]) * k + state["value"]
    state["value"] = np.where(seen & (count == period), state["sum"] / period,
                              np.where(seen & (count > period), moved, state["value"]))
    return np.where(seen & (count >= period), state["value"], np.nan)


def macd_step(state, closes, fast, slow, signal):
    """One day of TA-Lib's MACD per code: (DIF, DEA, DIF − DEA), NaN until slow + signal − 1 closes were seen
    and on a day without a close.
    As TA-Lib, both EMAs start on the slow-th close: slow from the mean of all slow closes, fast from the mean
    of the last `fast` of them."""
    seen = ~np.isnan(closes)
    state["count"] = state["count"] + seen
    count = state["count"]
    filling = np.flatnonzero(seen & (count <= slow))
    state["first"][count[filling].astype(int) - 1, filling] = closes[filling]
    seeded = seen & (count == slow)
    ka, kb = 2.0 / (fast + 1), 2.0 / (slow + 1)
    later = seen & (count > slow)
    state["fast"] = np.where(seeded, np.mean(state["first"][slow - fast :], axis=0),
                             np.where(later, (closes - state["fast"]) * ka + state["fast"], state["fast"]))
    state["slow"] = np.where(seeded, np.mean(state["first"], axis=0),
                             np.where(later, (closes - state["slow"]) * kb + state["slow"], state["slow"]))
    dif = np.where(seen & (count >= slow), state["fast"] - state["slow"], np.nan)
    dea = ema_step(state["dea"], dif, signal)
    dif = np.where(np.isnan(dea), np.nan, dif)
    return dif, dea, dif - dea


def handle_bar(context, bars):
    params = context.params
    closes = bars.close.to_numpy(dtype=float)
    if context.macd is None:
        context.macd = macd_state(closes.size, params["slow"])
        context.histogram = np.full(closes.size, np.nan)
    _, _, histogram = macd_step(context.macd, closes, params["fast"], params["slow"], params["signal"])
    before = context.histogram
    context.histogram = np.where(np.isnan(histogram), before, histogram)
    weight = params["invested"] / closes.size
    held = context.portfolio.positions
    for i, code in enumerate(bars.close.index):
        if histogram[i] > 0 >= before[i] and code not in held:
            order_target_percent(code, weight)
        elif histogram[i] < 0 <= before[i] and code in held:
            order_target_percent(code, 0.0)
