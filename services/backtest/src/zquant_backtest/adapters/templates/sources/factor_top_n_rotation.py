"""Factor top-N monthly rotation: on the first trading day of each month, hold the `top_n` codes with the highest
value of the factor (RSI: the strongest recent gainers), in equal weights; everything else is sold.

The vectorised engine calls `targets(context)` once with the factor as a dates × codes frame and reads the
weights on the rows it returns filled (the rebalance days; NaN rows are days without a rebalance). The event
engine runs the same rule day by day through `handle_bar`, with the day's factor values by code."""

import numpy as np
import pandas as pd

FACTORS = ["rsi"]


def initialize(context):
    context.month = ""


def top_weights(scores, top_n, invested):
    """Equal weights on the `top_n` highest scores (ties: universe order), 0 for every other code."""
    ranked = scores.dropna().sort_values(ascending=False, kind="stable")
    weights = pd.Series(0.0, index=scores.index)
    weights[ranked.index[:top_n]] = invested / top_n
    return weights


def targets(context):
    scores = context.factor(FACTORS[0])
    months = pd.DatetimeIndex(pd.to_datetime(scores.index)).to_period("M")
    weights = pd.DataFrame(np.nan, index=scores.index, columns=scores.columns)
    for row in np.flatnonzero(~months.duplicated()):
        weights.iloc[row] = top_weights(scores.iloc[row], context.params["top_n"], context.params["invested"])
    return weights


def handle_bar(context, bars):
    month = str(context.current_dt)[:7]
    if month == context.month:
        return
    context.month = month
    weights = top_weights(context.factor(FACTORS[0]), context.params["top_n"], context.params["invested"])
    for code, weight in weights.items():
        if weight > 0 or code in context.portfolio.positions:
            order_target_percent(code, weight)
