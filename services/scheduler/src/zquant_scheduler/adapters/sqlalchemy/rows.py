"""Rows ↔ domain records of the jobs, runs and attempts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zquant_scheduler.application.job_ports import Lease
from zquant_scheduler.domain.jobs import Job, JobType, MisfirePolicy, Trigger
from zquant_scheduler.domain.runs import Attempt, Run, RunStatus, RunTrigger


def job_row(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "owner_id": job.owner_id, "name": job.name, "description": job.description,
        "job_type": job.job_type.value, "cron_expression": job.trigger.cron_expression,
        "interval_seconds": job.trigger.interval_seconds, "timezone": job.trigger.timezone,
        "trading_days_only": job.trigger.trading_days_only, "enabled": job.enabled, "paused": job.paused,
        "config": dict(job.config), "max_retries": job.max_retries,
        "retry_interval_seconds": job.retry_interval_seconds, "misfire_policy": job.misfire_policy.value,
        "next_run_at": job.next_run_at, "created_at": job.created_at, "updated_at": job.updated_at,
    }  # fmt: skip


def job_of(row: Mapping[Any, Any]) -> Job:
    return Job(
        id=row["id"], owner_id=row["owner_id"], name=row["name"], description=row["description"],
        job_type=JobType(row["job_type"]),
        trigger=Trigger(row["cron_expression"], row["interval_seconds"], row["timezone"], row["trading_days_only"]),
        config=dict(row["config"]), enabled=row["enabled"], paused=row["paused"], max_retries=row["max_retries"],
        retry_interval_seconds=row["retry_interval_seconds"], misfire_policy=MisfirePolicy(row["misfire_policy"]),
        created_at=row["created_at"], updated_at=row["updated_at"], next_run_at=row["next_run_at"],
    )  # fmt: skip


def run_row(run: Run, lease: Lease | None) -> dict[str, Any]:
    return {
        "id": run.id, "job_id": run.job_id, "owner_id": run.owner_id, "job_name": run.job_name,
        "scheduled_time": run.scheduled_time, "trigger": run.trigger.value, "status": run.status.value,
        "attempts": run.attempts, "next_attempt_at": run.next_attempt_at,
        "lease_holder": lease.holder if lease else None, "lease_until": lease.until if lease else None,
        "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at,
        "target_task_id": run.target_task_id, "result_summary": run.result_summary, "error": run.error,
    }  # fmt: skip


def run_of(row: Mapping[Any, Any]) -> Run:
    return Run(
        id=row["id"], job_id=row["job_id"], owner_id=row["owner_id"], job_name=row["job_name"],
        scheduled_time=row["scheduled_time"], trigger=RunTrigger(row["trigger"]), status=RunStatus(row["status"]),
        created_at=row["created_at"], attempts=row["attempts"], next_attempt_at=row["next_attempt_at"],
        started_at=row["started_at"], finished_at=row["finished_at"], target_task_id=row["target_task_id"],
        result_summary=row["result_summary"], error=row["error"],
    )  # fmt: skip


def attempt_row(attempt: Attempt) -> dict[str, Any]:
    return {
        "run_id": attempt.run_id, "number": attempt.number, "step": attempt.step, "status": attempt.status.value,
        "started_at": attempt.started_at, "finished_at": attempt.finished_at,
        "target_task_id": attempt.target_task_id, "result_summary": attempt.result_summary, "error": attempt.error,
    }  # fmt: skip


def attempt_of(row: Mapping[Any, Any]) -> Attempt:
    return Attempt(
        run_id=row["run_id"], number=row["number"], step=row["step"], status=RunStatus(row["status"]),
        started_at=row["started_at"], finished_at=row["finished_at"], target_task_id=row["target_task_id"],
        result_summary=row["result_summary"], error=row["error"],
    )  # fmt: skip
