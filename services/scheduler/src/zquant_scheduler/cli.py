"""`zquant jobs …`: list your scheduled jobs, create one, trigger it now, show its run history.

Every command is a gRPC call to the scheduler (`ZQUANT_SCHEDULER_ADDRESS`, default where `zquant serve` puts it)
with the caller's access token: `--token`, else `$ZQUANT_TOKEN`. A job is named by its name or its id. `create`
takes the config as the JSON of the contract's `JobConfig`, e.g. `{"target": {"data_sync": {"mode":
"SYNC_MODE_INCREMENTAL"}}}`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import TextIO

from google.protobuf import json_format

from zquant.scheduler.v1 import scheduler_pb2 as pb
from zquant.scheduler.v1 import scheduler_pb2_grpc
from zquant_kit.client_cli import Metadata, UsageError, add_client_group, bearer_metadata

PAGE = 500
MISFIRE = {"run_once_late": pb.MISFIRE_POLICY_RUN_ONCE_LATE, "skip": pb.MISFIRE_POLICY_SKIP}


def _jobs(stub: scheduler_pb2_grpc.SchedulerServiceStub, metadata: Metadata) -> Iterator[pb.Job]:
    token = ""
    while True:
        page = stub.ListJobs(pb.ListJobsRequest(page_size=PAGE, page_token=token), metadata=metadata)
        yield from page.jobs
        token = page.next_page_token
        if not token:
            return


def _find(stub: scheduler_pb2_grpc.SchedulerServiceStub, metadata: Metadata, name: str) -> pb.Job:
    for job in _jobs(stub, metadata):
        if name in (job.name, job.id):
            return job
    raise UsageError(f"no job {name!r} (zquant jobs list)")


def _when(job: pb.Job) -> str:
    when = job.cron_expression or f"every {job.interval_seconds}s"
    return when + (" on trading days" if job.trading_days_only else "")


def list_jobs(args: argparse.Namespace, stub: scheduler_pb2_grpc.SchedulerServiceStub, out: TextIO) -> None:
    print(f"{'name':<24} {'type':<28} {'schedule':<32} {'state':<8} next run (UTC)", file=out)
    for job in _jobs(stub, bearer_metadata(args)):
        state = "paused" if job.paused else ("on" if job.enabled else "off")
        next_run = job.next_run_time.ToDatetime().isoformat() if job.HasField("next_run_time") else "-"
        print(f"{job.name:<24} {pb.JobType.Name(job.type):<28} {_when(job):<32} {state:<8} {next_run}", file=out)


def create_job(args: argparse.Namespace, stub: scheduler_pb2_grpc.SchedulerServiceStub, out: TextIO) -> None:
    try:
        config = json_format.ParseDict(json.loads(args.config), pb.JobConfig())
    except (ValueError, json_format.ParseError) as error:
        raise UsageError(f"--config is not a JobConfig in JSON: {error}") from None
    spec = pb.JobSpec(
        name=args.name, description=args.description, cron_expression=args.cron, interval_seconds=args.every,
        timezone=args.timezone, trading_days_only=args.trading_days, enabled=True, config=config,
        max_retries=args.retries, retry_interval_seconds=args.retry_interval, misfire_policy=MISFIRE[args.misfire],
    )  # fmt: skip
    job = stub.CreateJob(pb.CreateJobRequest(job=spec), metadata=bearer_metadata(args)).job
    print(f"job {job.name} ({job.id}) {_when(job)}", file=out)


def trigger_job(args: argparse.Namespace, stub: scheduler_pb2_grpc.SchedulerServiceStub, out: TextIO) -> None:
    metadata = bearer_metadata(args)
    run = stub.TriggerJob(pb.TriggerJobRequest(job_id=_find(stub, metadata, args.job).id), metadata=metadata).run
    print(f"run {run.id} of {run.job_name} queued", file=out)


def history(args: argparse.Namespace, stub: scheduler_pb2_grpc.SchedulerServiceStub, out: TextIO) -> None:
    metadata = bearer_metadata(args)
    job_id = _find(stub, metadata, args.job).id if args.job else ""
    runs = stub.ListRuns(pb.ListRunsRequest(job_id=job_id, page_size=args.limit), metadata=metadata).runs
    print(f"{'scheduled (UTC)':<27} {'job':<20} {'status':<20} {'attempts':>8} {'seconds':>8}  result", file=out)
    for run in runs:
        result = run.error or run.result_summary
        print(
            f"{run.scheduled_time.ToDatetime().isoformat():<27} {run.job_name:<20} "
            f"{pb.RunStatus.Name(run.status):<20} {run.attempts:>8} {run.duration_seconds:>8.1f}  {result}",
            file=out,
        )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands = add_client_group(
        subparsers,
        "jobs",
        help="scheduled jobs: list, create, trigger, history",
        service="scheduler",
        address_help="the scheduler (default: ZQUANT_SCHEDULER_ADDRESS)",
        connect=scheduler_pb2_grpc.SchedulerServiceStub,
    )
    commands.add_parser("list", help="your jobs").set_defaults(command=list_jobs)
    create = commands.add_parser("create", help="a job on a cron or an interval")
    create.add_argument("name")
    create.add_argument("--config", required=True, help="the JobConfig as JSON")
    create.add_argument("--cron", default="", help="e.g. '0 17 * * 1-5'")
    create.add_argument("--every", type=int, default=0, help="interval in seconds (instead of --cron)")
    create.add_argument("--timezone", default="", help="IANA name (default Asia/Shanghai)")
    create.add_argument("--trading-days", action="store_true", help="only on open days of the trade calendar")
    create.add_argument("--retries", type=int, default=0)
    create.add_argument("--retry-interval", type=int, default=60, help="seconds before the first retry")
    create.add_argument("--misfire", choices=sorted(MISFIRE), default="run_once_late")
    create.add_argument("--description", default="")
    create.set_defaults(command=create_job)
    trigger = commands.add_parser("trigger", help="run a job now")
    trigger.add_argument("job", help="job name or id")
    trigger.set_defaults(command=trigger_job)
    past = commands.add_parser("history", help="runs, newest first")
    past.add_argument("job", nargs="?", default="", help="job name or id (default: all your jobs)")
    past.add_argument("--limit", type=int, default=50)
    past.set_defaults(command=history)
