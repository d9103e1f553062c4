"""Proto ↔ domain for the scheduler's jobs, runs and attempts."""

from __future__ import annotations

import datetime as dt

from zquant.scheduler.v1 import scheduler_pb2 as pb
from zquant_kit.grpc.convert import to_timestamp
from zquant_kit.pagination import Cursor, pair_cursor
from zquant_scheduler.adapters.config_checker import config_dict, config_message
from zquant_scheduler.application.jobs import JobSpec
from zquant_scheduler.domain.jobs import Job, JobType, MisfirePolicy
from zquant_scheduler.domain.runs import Attempt, Run, RunStatus

_TYPES = {
    JobType.DATA_SYNC: pb.JOB_TYPE_DATA_SYNC,
    JobType.DATA_VALIDATION: pb.JOB_TYPE_DATA_VALIDATION,
    JobType.FACTOR_CALCULATION: pb.JOB_TYPE_FACTOR_CALCULATION,
    JobType.BACKTEST_RUN: pb.JOB_TYPE_BACKTEST_RUN,
    JobType.PIPELINE: pb.JOB_TYPE_PIPELINE,
}
_MISFIRE = {MisfirePolicy.RUN_ONCE_LATE: pb.MISFIRE_POLICY_RUN_ONCE_LATE, MisfirePolicy.SKIP: pb.MISFIRE_POLICY_SKIP}
_MISFIRE_OF = {value: key for key, value in _MISFIRE.items()}
_STATUS = {
    RunStatus.PENDING: pb.RUN_STATUS_PENDING,
    RunStatus.RUNNING: pb.RUN_STATUS_RUNNING,
    RunStatus.SUCCEEDED: pb.RUN_STATUS_SUCCEEDED,
    RunStatus.FAILED: pb.RUN_STATUS_FAILED,
    RunStatus.SKIPPED: pb.RUN_STATUS_SKIPPED,
    RunStatus.CANCELLED: pb.RUN_STATUS_CANCELLED,
}
_STATUS_OF = {value: key for key, value in _STATUS.items()}

JOBS: Cursor[Job, tuple[str, str]] = pair_cursor("scheduler.jobs", lambda job: (job.name, job.id))


def _run_key(parts: tuple[str, ...]) -> tuple[dt.datetime, str]:
    return dt.datetime.fromisoformat(parts[0]), parts[1]


RUNS: Cursor[Run, tuple[dt.datetime, str]] = Cursor(
    "scheduler.runs", 2, lambda run: (run.scheduled_time.isoformat(), run.id), _run_key
)


def spec_of(message: pb.JobSpec) -> JobSpec:
    return JobSpec(
        name=message.name, description=message.description, cron_expression=message.cron_expression,
        interval_seconds=message.interval_seconds, timezone=message.timezone,
        trading_days_only=message.trading_days_only, enabled=message.enabled, config=config_dict(message.config),
        max_retries=message.max_retries, retry_interval_seconds=message.retry_interval_seconds,
        misfire_policy=_MISFIRE_OF.get(message.misfire_policy, MisfirePolicy.RUN_ONCE_LATE),
    )  # fmt: skip


def status_of(value: pb.RunStatus.ValueType) -> RunStatus | None:
    return _STATUS_OF.get(value)


def job_message(job: Job) -> pb.Job:
    return pb.Job(
        id=job.id, owner_id=job.owner_id, name=job.name, description=job.description, type=_TYPES[job.job_type],
        cron_expression=job.trigger.cron_expression, interval_seconds=job.trigger.interval_seconds,
        timezone=job.trigger.timezone, trading_days_only=job.trigger.trading_days_only, enabled=job.enabled,
        paused=job.paused, config=config_message(job.config), max_retries=job.max_retries,
        retry_interval_seconds=job.retry_interval_seconds, misfire_policy=_MISFIRE[job.misfire_policy],
        next_run_time=to_timestamp(job.next_run_at), create_time=to_timestamp(job.created_at),
        update_time=to_timestamp(job.updated_at),
    )  # fmt: skip


def attempt_message(attempt: Attempt) -> pb.Attempt:
    return pb.Attempt(
        number=attempt.number, step=attempt.step, status=_STATUS[attempt.status],
        start_time=to_timestamp(attempt.started_at), end_time=to_timestamp(attempt.finished_at),
        duration_seconds=(attempt.finished_at - attempt.started_at).total_seconds(),
        target_task_id=attempt.target_task_id, result_summary=attempt.result_summary, error=attempt.error,
    )  # fmt: skip


def run_message(run: Run, attempts: list[Attempt] | None = None) -> pb.Run:
    return pb.Run(
        id=run.id, job_id=run.job_id, job_name=run.job_name, owner_id=run.owner_id,
        scheduled_time=to_timestamp(run.scheduled_time), trigger=run.trigger.value, status=_STATUS[run.status],
        attempts=run.attempts, start_time=to_timestamp(run.started_at), end_time=to_timestamp(run.finished_at),
        duration_seconds=run.duration_seconds, target_task_id=run.target_task_id,
        result_summary=run.result_summary, error=run.error,
        attempt_history=[attempt_message(a) for a in attempts or []],
    )  # fmt: skip
