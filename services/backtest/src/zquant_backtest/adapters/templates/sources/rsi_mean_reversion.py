"""RSI mean reversion: buy a code when its RSI falls below `oversold`, sell it all when the RSI rises above
`overbought`. RSI is Wilder's, exactly as TA-Lib computes it (average gain and loss seeded with the mean of the
first `n` changes, then smoothed by 1/n), updated once a day per code; a suspended day is skipped."""

import numpy as np


def initialize(context):
    if context.params["oversold"] >= context.params["overbought"]:
        raise ValueError("oversold must be below overbought")
    context.rsi = None


def rsi_state(n_codes):
    zeros = np.zeros(n_codes)
    return {"previous": np.full(n_codes, np.nan), "count": zeros.copy(), "gain": zeros.copy(), "loss": zeros.copy()}


def rsi_step(state, closes, n):
    """One day of TA-Lib's RSI per code, in [0, 100]; NaN until n changes were seen and on a day without a close;
    0 after neither a gain nor a loss over the whole average, as TA-Lib."""
    change = closes - state["previous"]
    state["previous"] = np.where(np.isnan(closes), state["previous"], closes)
    moved = ~np.isnan(change)
    state["count"] = state["count"] + moved
    count = state["count"]
    up, down = np.nan_to_num(np.maximum(change, 0.0)), np.nan_to_num(np.maximum(-change, 0.0))
    for name, part in (("gain", up), ("loss", down)):
        summed = state[name] + part
        smoothed = (state[name] * (n - 1) + part) / n
        state[name] = np.where(moved & (count < n), summed,
                               np.where(moved & (count == n), summed / n,
                                        np.where(moved & (count > n), smoothed, state[name])))
    total = state["gain"] + state["loss"]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(total != 0.0, 100.0 * state["gain"] / total, 0.0)
    return np.where(moved & (count >= n), value, np.nan)


def handle_bar(context, bars):
    params = context.params
    closes = bars.close.to_numpy(dtype=float)
    if context.rsi is None:
        context.rsi = rsi_state(closes.size)
    today = rsi_step(context.rsi, closes, params["n"])
    weight = params["invested"] / closes.size
    held = context.portfolio.positions
    for i, code in enumerate(bars.close.index):
        if today[i] < params["oversold"] and code not in held:
            order_target_percent(code, weight)
        elif today[i] > params["overbought"] and code in held:
            order_target_percent(code, 0.0)
