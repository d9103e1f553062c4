"""Dual moving-average crossover: buy a code when its fast average of closes crosses above the slow one (golden
cross), sell it all when it crosses back below (dead cross). Each holding gets an equal share of the capital."""


def initialize(context):
    if context.params["fast"] >= context.params["slow"]:
        raise ValueError("fast must be shorter than slow")


def handle_bar(context, bars):
    fast, slow = context.params["fast"], context.params["slow"]
    seen = history(context.universe, "close", slow + 1)
    if len(seen) <= slow:
        return
    closes = seen.ffill().to_numpy()  # a suspended day keeps its last close
    fast_now, slow_now = closes[-fast:].mean(axis=0), closes[-slow:].mean(axis=0)
    fast_before, slow_before = closes[-fast - 1 : -1].mean(axis=0), closes[-slow - 1 : -1].mean(axis=0)
    golden = (fast_now > slow_now) & (fast_before <= slow_before)
    dead = (fast_now < slow_now) & (fast_before >= slow_before)
    weight = context.params["invested"] / len(context.universe)
    held = context.portfolio.positions
    for i, code in enumerate(seen.columns):
        if golden[i] and code not in held:
            order_target_percent(code, weight)
        elif dead[i] and code in held:
            order_target_percent(code, 0.0)
