"""`backtest.completed.v1` and `backtest.failed.v1`, typed by the proto contract, emitted with the final record
in the same unit of work (so through the outbox): once per task, never for a cancelled one."""

from __future__ import annotations

import datetime as dt

from zquant.backtest.v1 import events_pb2
from zquant_backtest.application.task_ports import TaskRecord
from zquant_kit.events.model import Event
from zquant_kit.timestamps import timestamp

COMPLETED = "backtest.completed.v1"
FAILED = "backtest.failed.v1"


def completed(record: TaskRecord, now: dt.datetime) -> Event:
    metrics = record.metrics
    message = events_pb2.BacktestCompletedEvent(
        task_id=record.id,
        owner_id=record.owner_id,
        strategy_id=record.strategy_id,
        strategy_name=record.strategy_name,
        total_return=metrics.get("total_return", 0.0),
        annual_return=metrics.get("annual_return", 0.0),
        sharpe=metrics.get("sharpe", 0.0),
        max_drawdown=metrics.get("max_drawdown", 0.0),
        occur_time=timestamp(now),
    )
    return Event.create(COMPLETED, message)


def failed(record: TaskRecord, now: dt.datetime) -> Event:
    message = events_pb2.BacktestFailedEvent(
        task_id=record.id,
        owner_id=record.owner_id,
        strategy_id=record.strategy_id,
        strategy_name=record.strategy_name,
        reason=record.error,
        attempts=record.attempts,
        occur_time=timestamp(now),
    )
    return Event.create(FAILED, message)
