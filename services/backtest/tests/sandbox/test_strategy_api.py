"""The JoinQuant-style API inside the child: bars by code, portfolio, history without look-ahead, orders."""

from __future__ import annotations

import dataclasses

import pytest

from zquant_backtest.adapters.sandbox.limits import SandboxLimits
from zquant_backtest.adapters.sandbox.messages import SandboxRunFailed
from zquant_backtest.domain.order_book import OrderKind

from .conftest import CASH, CODES, FAST, failure_of, run_strategy

pytestmark = pytest.mark.sandbox

API_STRATEGY = '''
def initialize(context):
    context.calls = 0

def handle_bar(context, bars):
    context.calls += 1
    code = context.universe[2]
    seen = history(context.universe, "close", 10)
    order_shares(code, float(bars.close[code]))
    order_value(context.universe[0], float(len(seen)))
    order_target_shares(context.universe[1], float(seen.iloc[-1, 1]))
    order_target_percent(code, 0.25 if context.portfolio.cash == 1000000.0 else 0.5)
    order_shares(context.universe[0], float(context.calls))
    order_shares(context.universe[1], float(seen.values.max()))
    order_target_value(code, float(context.eligible.sum()))
'''


def test_orders_carry_code_kind_amount_and_run_wide_ids() -> None:
    days = run_strategy(API_STRATEGY, days=3, limits=dataclasses.replace(FAST, static_check=True))
    last = days[-1]
    assert [o.kind for o in last[:4]] == [OrderKind.SHARES, OrderKind.VALUE, OrderKind.TARGET_SHARES,
                                          OrderKind.TARGET_PERCENT]
    assert (last[0].code, last[0].amount) == (2, 202.0)  # bars.close indexed by code, day 2
    assert last[1].amount == 3.0  # history holds the three days seen so far, never more
    assert last[2].amount == 201.0
    assert last[3].amount == 0.25
    assert [d[4].amount for d in days] == [1.0, 2.0, 3.0]  # initialize ran once, context persists
    assert (last[6].kind, last[6].amount) == (OrderKind.TARGET_VALUE, 2.0)  # the eligible mask: codes 0 and 2
    assert [o.id for d in days for o in d] == list(range(1, 22))


def test_history_never_serves_an_unseen_day() -> None:
    days = run_strategy(API_STRATEGY, days=2)
    assert [d[5].amount for d in days] == [2.0, 102.0]  # the max seen so far is today's last code


def test_positions_and_total_value() -> None:
    code = ("def handle_bar(context, bars):\n"
            "    order_shares(context.universe[0], len(context.portfolio.positions))\n"
            "    order_value(context.universe[0], context.portfolio.total_value)\n")
    orders = run_strategy(code, days=1)[0]
    assert [o.amount for o in orders] == [0.0, CASH]


def test_unknown_code_fails_with_the_user_line() -> None:
    code = "def handle_bar(context, bars):\n    order_shares('999999.SZ', 100)\n"
    reason = failure_of(code)
    assert "unknown code '999999.SZ'" in reason and "(line 2)" in reason, reason


def test_out_of_bounds_target_percent_is_rejected_by_the_parent() -> None:
    code = f"def handle_bar(context, bars):\n    order_target_percent('{CODES[0]}', 3.0)\n"
    assert "out of bounds" in failure_of(code)


def test_static_check_reports_line_and_column_before_running() -> None:
    code = "def handle_bar(context, bars):\n    import os\n"
    reason = failure_of(code, limits=SandboxLimits(static_check=True))
    assert "line 2 col 4: import of 'os' is not allowed" in reason, reason


def test_a_module_without_handle_bar_fails_at_start() -> None:
    assert "must define handle_bar()" in failure_of("def targets(context):\n    return None\n")


def test_total_deadline_ends_a_slow_run() -> None:
    code = "import time\ndef handle_bar(context, bars):\n    time.sleep(0.4)\n"
    limits = dataclasses.replace(FAST, day_deadline_s=5.0, total_deadline_s=3.0)
    with pytest.raises(SandboxRunFailed, match="deadline exceeded"):
        run_strategy(code, days=30, limits=limits)
