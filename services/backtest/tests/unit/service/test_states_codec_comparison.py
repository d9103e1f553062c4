"""The pure parts: legal task transitions, the stored result's codec, and the comparison of two runs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from services.backtest.tests.fakes.executors import deterministic_result
from zquant_backtest.adapters.sqlalchemy.result_codec import decode_result, encode_result
from zquant_backtest.application.run_ports import RunConfig, RunSpec, StrategyCode
from zquant_backtest.domain.comparison import RunSide, compare
from zquant_backtest.domain.tasks import IllegalTransition, TaskState, can_move, moved

pytestmark = pytest.mark.unit
Q, R, S, F, C = (
    TaskState.QUEUED,
    TaskState.RUNNING,
    TaskState.SUCCEEDED,
    TaskState.FAILED,
    TaskState.CANCELLED,
)


def test_final_states_never_change_and_queued_cannot_succeed_without_running():
    for final in (S, F, C):
        assert final.final
        for other in TaskState:
            assert not can_move(final, other)
    assert not can_move(Q, S)
    assert all(can_move(R, other) for other in TaskState)
    with pytest.raises(IllegalTransition):
        moved(S, R)


def test_a_result_reads_back_bit_for_bit_and_the_blob_is_small():
    spec = RunSpec(
        "t1", "u1", StrategyCode("x", {}), RunConfig(dt.date(2020, 1, 2), dt.date(2024, 12, 31), 1e6), "v1"
    )
    result = deterministic_result(spec)
    blob = encode_result(result)
    back = decode_result(blob)
    assert back.fingerprint == result.fingerprint and back.codes == result.codes
    assert (
        np.array_equal(back.dates, result.dates) and back.equity.nav.tobytes() == result.equity.nav.tobytes()
    )
    assert back.fills.qty.tolist() == result.fills.qty.tolist()
    assert back.performance.max_drawdown == result.performance.max_drawdown
    assert np.array_equal(back.performance.monthly[1], result.performance.monthly[1], equal_nan=True)
    assert len(blob) < 4 * 8 * result.dates.size + 4096
    with pytest.raises(ValueError):
        decode_result(blob[:-1] + b"x")


def _side(**changes) -> RunSide:
    base = dict(
        task_id="a", code_hash="h", params={"n": 5}, rules_version="r1", data_version="1-x", fingerprint="f",
        settings={"initial_cash": 1e6}, metrics={"sharpe": float("nan"), "total_return": 0.1},
    )  # fmt: skip
    base.update(changes)
    return RunSide(**base)


def test_comparison_lists_inputs_then_metrics_and_nan_equals_nan():
    assert compare(_side(), _side(task_id="b")) == []
    found = compare(
        _side(), _side(params={"n": 10}, data_version="2-y", metrics={"sharpe": 1.0, "total_return": 0.1})
    )
    assert [d.field for d in found] == ["data_version", "params.n", "metrics.sharpe"]
    assert found[1].first == "5" and found[1].second == "10"
