"""gRPC inbound adapter of SchedulerService: proto ↔ the job and run use cases, nothing else.

Each RPC checks its permission at the edge; the use cases check it again, with ownership.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial

from zquant.scheduler.v1 import scheduler_pb2 as pb
from zquant.scheduler.v1 import scheduler_pb2_grpc
from zquant_kit import principal
from zquant_kit.errors import InvalidArgument
from zquant_kit.grpc.convert import optional_timestamp
from zquant_scheduler.adapters.grpc.messages import (
    JOBS,
    RUNS,
    job_message,
    run_message,
    spec_of,
    status_of,
)
from zquant_scheduler.application.access import READ, TRIGGER, WRITE
from zquant_scheduler.application.job_ports import RunFilter
from zquant_scheduler.application.jobs import JobUseCases
from zquant_scheduler.application.runs import RunUseCases


@contextlib.contextmanager
def _spec_fields() -> Iterator[None]:
    """The use cases name a spec's fields (`cron_expression`, `config.…`); the request nests them under `job`."""
    try:
        yield
    except InvalidArgument as bad:
        raise InvalidArgument.of([(f"job.{field}", text) for field, text in bad.violations]) from None


class SchedulerServicer(scheduler_pb2_grpc.SchedulerServiceServicer):
    def __init__(self, jobs: JobUseCases, runs: RunUseCases) -> None:
        self._jobs = jobs
        self._runs = runs

    async def CreateJob(self, request, context):
        with _spec_fields():
            job = await self._jobs.create_job(principal.require(WRITE), spec_of(request.job))
        return pb.CreateJobResponse(job=job_message(job))

    async def GetJob(self, request, context):
        return pb.GetJobResponse(job=job_message(await self._jobs.get_job(principal.require(READ), request.job_id)))

    async def ListJobs(self, request, context):
        actor = principal.require(READ)
        jobs, token = await JOBS.page(request, partial(self._jobs.list_jobs, actor))
        return pb.ListJobsResponse(jobs=[job_message(j) for j in jobs], next_page_token=token)

    async def UpdateJob(self, request, context):
        with _spec_fields():
            job = await self._jobs.update_job(principal.require(WRITE), request.job_id, spec_of(request.job))
        return pb.UpdateJobResponse(job=job_message(job))

    async def DeleteJob(self, request, context):
        await self._jobs.delete_job(principal.require(WRITE), request.job_id)
        return pb.DeleteJobResponse()

    async def TriggerJob(self, request, context):
        run = await self._jobs.trigger_job(principal.require(TRIGGER), request.job_id)
        return pb.TriggerJobResponse(run=run_message(run))

    async def PauseJob(self, request, context):
        job = await self._jobs.pause_job(principal.require(WRITE), request.job_id)
        return pb.PauseJobResponse(job=job_message(job))

    async def ResumeJob(self, request, context):
        job = await self._jobs.resume_job(principal.require(WRITE), request.job_id)
        return pb.ResumeJobResponse(job=job_message(job))

    async def CancelRun(self, request, context):
        run = await self._runs.cancel_run(principal.require(TRIGGER), request.run_id)
        return pb.CancelRunResponse(run=run_message(run))

    async def ListRuns(self, request, context):
        actor = principal.require(READ)
        where = RunFilter(
            job_id=request.job_id or None, status=status_of(request.status),
            scheduled_after=optional_timestamp(request, "scheduled_after"),
            scheduled_before=optional_timestamp(request, "scheduled_before"),
        )  # fmt: skip
        runs, token = await RUNS.page(request, partial(self._runs.list_runs, actor, where))
        return pb.ListRunsResponse(runs=[run_message(r) for r in runs], next_page_token=token)

    async def GetRun(self, request, context):
        run, attempts = await self._runs.get_run(principal.require(READ), request.run_id)
        return pb.GetRunResponse(run=run_message(run, attempts))
