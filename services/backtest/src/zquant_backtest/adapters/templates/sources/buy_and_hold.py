"""Buy and hold: on the first day the market is open, split the capital equally over the universe, then never
trade again. The benchmark every active strategy has to beat after its costs."""


def initialize(context):
    context.bought = False


def handle_bar(context, bars):
    if context.bought:
        return
    priced = [code for code in context.universe if bars.close[code] > 0]  # a suspended code has no close
    if not priced:
        return
    weight = context.params["invested"] / len(priced)
    for code in priced:
        order_target_percent(code, weight)
    context.bought = True
