"""WatchBacktest on a slow run: the state now, running updates with percent and the current date, then the end;
CancelBacktest mid-run ends the watch cancelled."""

from __future__ import annotations

import pytest

from services.backtest.tests.fakes.executors import SlowExecutor
from zquant.backtest.v1 import backtest_pb2 as pb

pytestmark = pytest.mark.contract

CODE = "def handle_bar(context, bar):\n    pass\n"


@pytest.fixture
def executor() -> SlowExecutor:
    return SlowExecutor(steps=15, step=0.1)


def _submit(code: str = CODE) -> pb.SubmitBacktestRequest:
    config = pb.BacktestConfig(
        ts_codes=["600000.SH"], start_date="20240102", end_date="20240329", initial_cash=1e6
    )
    return pb.SubmitBacktestRequest(code=code, config=config)


async def test_watch_streams_progress_until_succeeded_and_cancel_ends_it(backtest):
    _, alice = await backtest.user("alice")
    task = (await backtest.backtests.SubmitBacktest(_submit(), metadata=alice)).task
    seen = [
        m
        async for m in backtest.backtests.WatchBacktest(
            pb.WatchBacktestRequest(task_id=task.task_id), metadata=alice
        )
    ]
    running = [m for m in seen if m.state == pb.TASK_STATE_RUNNING and m.percent > 0]
    assert running and running[-1].current_date == "20240102"
    assert [m.percent for m in running] == sorted(m.percent for m in running)
    assert seen[-1].state == pb.TASK_STATE_SUCCEEDED

    second = (await backtest.backtests.SubmitBacktest(_submit(CODE + "\n"), metadata=alice)).task
    watch = backtest.backtests.WatchBacktest(pb.WatchBacktestRequest(task_id=second.task_id), metadata=alice)
    async for message in watch:
        if message.state == pb.TASK_STATE_RUNNING:
            break
    cancelled = await backtest.backtests.CancelBacktest(
        pb.CancelBacktestRequest(task_id=second.task_id), metadata=alice
    )
    assert cancelled.task.state == pb.TASK_STATE_CANCELLED
    rest = [m async for m in watch]
    assert rest[-1].state == pb.TASK_STATE_CANCELLED
