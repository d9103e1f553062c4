"""The engine drives the sandboxed port as it drives an in-process strategy: same phases, same orders, same result."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

import numpy as np
import pytest

from zquant_backtest.adapters.in_process_strategy import InProcessStrategy
from zquant_backtest.adapters.sandbox.messages import SandboxRunFailed
from zquant_backtest.adapters.sandbox.strategy import SandboxStrategyPort
from zquant_backtest.application.event_engine import EventEngine
from zquant_backtest.application.run_ports import StrategyCode
from zquant_backtest.application.strategy_api import Bars, Context, Strategy
from zquant_backtest.application.strategy_port import Phase
from zquant_backtest.domain.arrays import FloatArray
from zquant_backtest.domain.params import Param
from zquant_backtest.domain.simulation import RunSettings

from .conftest import FAST, synthetic_panel

pytestmark = pytest.mark.sandbox

MODULE = '''
FACTORS = ["score"]

def initialize(context):
    context.seen_before_open = []

def before_trading(context):
    context.seen_before_open.append(len(history(context.universe, "close", 100)))

def handle_bar(context, bars):
    day = len(history(context.universe, "close", 100))
    if day == context.params["buy_on"]:
        order_value(context.factor("score").idxmax(), context.params["value"])
    if day == context.params["buy_on"] + 2:
        order_target_percent(context.universe[0], 0.1)
    if day == context.params["buy_on"] + 4:
        order_target_shares(context.factor("score").idxmax(), 0)

def after_trading(context):
    if context.seen_before_open[-1] != len(history(context.universe, "close", 100)) - 1:
        raise RuntimeError("before_trading saw today's close")
'''
SCHEMA = {"buy_on": {"type": "int", "min": 1, "default": 3}, "value": {"type": "float", "default": 1e5}}


class Twin(Strategy):
    """MODULE in process, for the comparison."""

    params_schema = (Param("buy_on", int, 3, minimum=1), Param("value", float, 1e5))

    def handle_bar(self, context: Context, bars: Bars) -> None:
        day = len(context.history(None, "close", 100))
        best = context.codes[int(np.argmax(context.factor("score")))]
        if day == context.params["buy_on"]:
            context.order_value(best, float(context.params["value"]))
        if day == int(context.params["buy_on"]) + 2:
            context.order_target_percent(context.codes[0], 0.1)
        if day == int(context.params["buy_on"]) + 4:
            context.order_target_shares(best, 0)


class Scores:
    """A fake factor source: code 2 scores highest every day."""

    def values(self, name: str, on: date, codes: Sequence[str]) -> FloatArray:
        return np.arange(len(codes), dtype=np.float64) if name == "score" else np.full(len(codes), np.nan)


def test_the_sandboxed_run_equals_the_in_process_one() -> None:
    panel = synthetic_panel(10)
    settings = RunSettings(initial_cash=1_000_000.0)
    port = SandboxStrategyPort(StrategyCode(MODULE, SCHEMA), FAST)
    try:
        ours = EventEngine(panel, port, settings, factors=Scores()).run({"buy_on": 2, "value": 50_000.0})
        assert port.phases == frozenset(Phase)
    finally:
        port.close()
    theirs = EventEngine(panel, InProcessStrategy(Twin()), settings, factors=Scores()).run(
        {"buy_on": 2, "value": 50_000.0})
    assert ours.fills.qty.size == 3
    for name in ("day", "code", "qty", "price"):
        assert np.array_equal(getattr(ours.fills, name), getattr(theirs.fills, name)), name
    assert np.array_equal(ours.equity.nav, theirs.equity.nav)
    assert port.code_hash == hashlib.sha256(MODULE.encode()).hexdigest()
    assert [p.name for p in port.params_schema] == ["buy_on", "value"]


def test_phases_are_those_the_module_defines_and_known_once_started() -> None:
    code = "def handle_bar(context, bars):\n    order_shares(context.universe[2], 100)\n"
    port = SandboxStrategyPort(StrategyCode(code, {}), FAST)
    with pytest.raises(RuntimeError, match="known once"):
        port.phases  # noqa: B018
    panel = synthetic_panel(4)
    try:
        EventEngine(panel, port).run()
        assert port.phases == frozenset({Phase.HANDLE_BAR})
    finally:
        port.close()


def test_a_malformed_schema_or_factor_list_fails_before_any_child_starts() -> None:
    with pytest.raises(SandboxRunFailed, match="needs a default"):
        SandboxStrategyPort(StrategyCode("def handle_bar(c, b):\n    pass\n", {"n": {"type": "int"}}))
    with pytest.raises(SandboxRunFailed, match="FACTORS"):
        SandboxStrategyPort(StrategyCode("FACTORS = names()\ndef handle_bar(c, b):\n    pass\n", {}))
