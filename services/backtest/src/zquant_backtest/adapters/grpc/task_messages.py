"""Proto ↔ plain values for BacktestService's tasks: the config in, the task record out."""

from __future__ import annotations

from zquant.backtest.v1 import backtest_pb2 as pb
from zquant_backtest.adapters.grpc.json_fields import json_object, json_text
from zquant_backtest.application.run_ports import CostConfig, EngineKind, RunConfig
from zquant_backtest.application.submission import SubmitRequest
from zquant_backtest.application.task_ports import TaskRecord
from zquant_backtest.domain.orders import Timing
from zquant_backtest.domain.tasks import TaskState
from zquant_kit.dates import format_yyyymmdd
from zquant_kit.grpc.convert import optional_day, to_timestamp
from zquant_kit.jobs import JobUpdate

TIMINGS = {
    pb.FILL_TIMING_UNSPECIFIED: Timing.OPEN,
    pb.FILL_TIMING_OPEN: Timing.OPEN,
    pb.FILL_TIMING_CLOSE: Timing.CLOSE,
    pb.FILL_TIMING_VWAP: Timing.VWAP,
}
TIMING_ENUMS = {
    Timing.OPEN: pb.FILL_TIMING_OPEN,
    Timing.CLOSE: pb.FILL_TIMING_CLOSE,
    Timing.VWAP: pb.FILL_TIMING_VWAP,
}
ENGINES = {
    pb.ENGINE_KIND_UNSPECIFIED: None,
    pb.ENGINE_KIND_EVENT: EngineKind.EVENT,
    pb.ENGINE_KIND_VECTOR: EngineKind.VECTOR,
}
ENGINE_ENUMS = {EngineKind.EVENT: pb.ENGINE_KIND_EVENT, EngineKind.VECTOR: pb.ENGINE_KIND_VECTOR}
STATES = {
    TaskState.QUEUED: pb.TASK_STATE_QUEUED,
    TaskState.RUNNING: pb.TASK_STATE_RUNNING,
    TaskState.SUCCEEDED: pb.TASK_STATE_SUCCEEDED,
    TaskState.FAILED: pb.TASK_STATE_FAILED,
    TaskState.CANCELLED: pb.TASK_STATE_CANCELLED,
}
STATE_FILTERS = {pb.TASK_STATE_UNSPECIFIED: None, **{value: state for state, value in STATES.items()}}


def _costs(config: pb.BacktestConfig) -> CostConfig:
    if not config.HasField("costs"):
        return CostConfig()
    costs = config.costs
    return CostConfig(
        commission_rate=costs.commission_rate, min_commission=costs.min_commission,
        slippage_bps=costs.slippage_bps, volume_cap=costs.volume_cap or None,
    )  # fmt: skip


def submit_request(request: pb.SubmitBacktestRequest) -> SubmitRequest:
    config = request.config
    source = request.WhichOneof("source")
    return SubmitRequest(
        strategy_id=request.strategy_id if source == "strategy_id" else "",
        code=request.code if source == "code" else "",
        template_name=request.template_name if source == "template_name" else "",
        params_schema=json_object(request.params_schema_json, "params_schema_json"),
        codes=tuple(dict.fromkeys(code.strip().upper() for code in config.ts_codes)),
        index_code=config.index_code.strip().upper(),
        start=optional_day(config.start_date, "config.start_date"),
        end=optional_day(config.end_date, "config.end_date"),
        initial_cash=config.initial_cash,
        benchmark=config.benchmark.strip().upper(),
        costs=_costs(config),
        timing=TIMINGS[config.fill_timing],
        params=json_object(config.params_json, "config.params_json"),
        engine=ENGINES[config.engine],
        idempotency_key=request.idempotency_key,
    )


def config_message(config: RunConfig) -> pb.BacktestConfig:
    costs = config.costs
    return pb.BacktestConfig(
        ts_codes=list(config.codes), index_code=config.index_code or "", start_date=format_yyyymmdd(config.start),
        end_date=format_yyyymmdd(config.end), initial_cash=config.initial_cash, benchmark=config.benchmark or "",
        costs=pb.Costs(
            commission_rate=costs.commission_rate, min_commission=costs.min_commission,
            slippage_bps=costs.slippage_bps, volume_cap=costs.volume_cap or 0.0,
        ),
        fill_timing=TIMING_ENUMS[config.timing], params_json=json_text(dict(config.params)),
        engine=ENGINE_ENUMS[config.engine],
    )  # fmt: skip


def task(record: TaskRecord) -> pb.BacktestTask:
    return pb.BacktestTask(
        task_id=record.id, owner_id=record.owner_id, strategy_id=record.strategy_id,
        strategy_name=record.strategy_name, template_name=record.template_name, state=STATES[record.state],
        percent=record.percent, current_date=format_yyyymmdd(record.current_date), error=record.error,
        attempts=record.attempts, code_hash=record.code_hash, data_version=record.data_version,
        config=config_message(record.config), fingerprint=record.fingerprint,
        rules_version=record.rules_version, idempotency_key=record.idempotency_key,
        create_time=to_timestamp(record.created_at), start_time=to_timestamp(record.started_at),
        finish_time=to_timestamp(record.finished_at),
    )  # fmt: skip


def watch_message(record: TaskRecord, message: str = "") -> pb.WatchBacktestResponse:
    return pb.WatchBacktestResponse(
        task_id=record.id, state=STATES[record.state], percent=record.percent,
        current_date=format_yyyymmdd(record.current_date), message=message or record.error,
    )  # fmt: skip


def progress_message(task_id: str, update: JobUpdate, percent: float) -> pb.WatchBacktestResponse:
    """A running update as the queue reports it: the handler's `percent` (the caller checked there is one), and
    the day the run is at as its message."""
    return pb.WatchBacktestResponse(
        task_id=task_id, state=STATES[TaskState(update.state.value)], percent=percent, current_date=update.message
    )
