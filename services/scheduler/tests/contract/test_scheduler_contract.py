"""SchedulerService through a real gRPC server (identity + scheduler, all-in-one): a researcher creates, lists,
pauses, resumes, triggers and reads the history of their job; a config over the target's own bounds is
INVALID_ARGUMENT naming the field; another user's ids are NOT_FOUND; a viewer may read but not write; an admin sees
every job. The scheduler acts as the owner through identity's owner tokens, with the owner's current rights: a
researcher's sync job fails, because researchers hold no data:sync, with that reason."""

from __future__ import annotations

import grpc
import pytest

from zquant.factor.v1 import calculation_pb2
from zquant.marketdata.v1 import sync_pb2
from zquant.scheduler.v1 import scheduler_pb2 as pb
from zquant.scheduler.v1 import scheduler_pb2_grpc
from zquant_kit.settings import Settings
from zquant_kit.testing import (
    ADMIN_PASSWORD,
    admin_metadata,
    create_user,
    eventually,
    expect_error,
    running_stack,
    services,
)

pytestmark = pytest.mark.contract


def sync_job(name: str, **changes) -> pb.JobSpec:
    values = dict(
        name=name, interval_seconds=3600, enabled=True, max_retries=1, retry_interval_seconds=1,
        config=pb.JobConfig(target=pb.TargetConfig(data_sync=sync_pb2.StartSyncRequest(mode=sync_pb2.SYNC_MODE_INCREMENTAL))),
    )  # fmt: skip
    values.update(changes)
    return pb.JobSpec(**values)


@pytest.fixture
async def stack(tmp_path):
    settings = Settings(
        {"ZQUANT_DATA_DIR": str(tmp_path), "ZQUANT_EVENT_BUS": "inprocess", "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
         "ZQUANT_GRPC_REFLECTION": "false"}
    )  # fmt: skip
    async with running_stack(services("identity", "scheduler"), settings) as client:
        yield client


async def test_a_researchers_job_from_create_to_history(stack):
    identity = stack.channel("identity")
    admin = await admin_metadata(identity)
    _, alice = await create_user(identity, "alice", admin=admin)
    _, bob = await create_user(identity, "bob", admin=admin)
    _, vera = await create_user(identity, "vera", role="viewer", admin=admin)
    jobs = scheduler_pb2_grpc.SchedulerServiceStub(stack.channel("scheduler"))

    job = (await jobs.CreateJob(pb.CreateJobRequest(job=sync_job("nightly")), metadata=alice)).job
    assert job.type == pb.JOB_TYPE_DATA_SYNC and job.timezone == "Asia/Shanghai" and job.HasField("next_run_time")
    assert job.config.target.data_sync.mode == sync_pb2.SYNC_MODE_INCREMENTAL
    clash = await expect_error(jobs.CreateJob(pb.CreateJobRequest(job=sync_job("nightly")), metadata=alice),
                               grpc.StatusCode.ALREADY_EXISTS)  # fmt: skip
    assert clash.fields == [] or "name" in clash.message
    paused = (await jobs.PauseJob(pb.PauseJobRequest(job_id=job.id), metadata=alice)).job
    assert paused.paused and not paused.HasField("next_run_time")
    assert (await jobs.ResumeJob(pb.ResumeJobRequest(job_id=job.id), metadata=alice)).job.HasField("next_run_time")

    run = (await jobs.TriggerJob(pb.TriggerJobRequest(job_id=job.id), metadata=alice)).run

    async def history():
        return (await jobs.ListRuns(pb.ListRunsRequest(job_id=job.id), metadata=alice)).runs

    (ended,) = await eventually(history, lambda runs: runs and runs[0].status == pb.RUN_STATUS_FAILED, timeout=10)
    assert ended.id == run.id and "permission 'data:sync'" in ended.error and ended.attempts == 1
    detail = (await jobs.GetRun(pb.GetRunRequest(run_id=run.id), metadata=alice)).run
    assert [a.status for a in detail.attempt_history] == [pb.RUN_STATUS_FAILED]

    for call in (jobs.GetJob(pb.GetJobRequest(job_id=job.id), metadata=bob),
                 jobs.GetRun(pb.GetRunRequest(run_id=run.id), metadata=bob),
                 jobs.TriggerJob(pb.TriggerJobRequest(job_id=job.id), metadata=bob),
                 jobs.DeleteJob(pb.DeleteJobRequest(job_id=job.id), metadata=bob)):  # fmt: skip
        await expect_error(call, grpc.StatusCode.NOT_FOUND)
    assert not (await jobs.ListJobs(pb.ListJobsRequest(), metadata=bob)).jobs
    assert not (await jobs.ListRuns(pb.ListRunsRequest(job_id=job.id), metadata=bob)).runs
    await expect_error(jobs.CreateJob(pb.CreateJobRequest(job=sync_job("mine")), metadata=vera),
                       grpc.StatusCode.PERMISSION_DENIED)  # fmt: skip
    assert [j.id for j in (await jobs.ListJobs(pb.ListJobsRequest(), metadata=admin)).jobs] == [job.id]
    await jobs.DeleteJob(pb.DeleteJobRequest(job_id=job.id), metadata=alice)
    await expect_error(jobs.GetJob(pb.GetJobRequest(job_id=job.id), metadata=alice), grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (sync_job("bad", config=pb.JobConfig(target=pb.TargetConfig(
            factor_calculation=calculation_pb2.CalculateFactorsRequest(factor_ids=[])))),
         "job.config.target.factor_calculation.factor_ids"),
        (sync_job("bad", config=pb.JobConfig(target=pb.TargetConfig(
            data_validation=sync_pb2.ValidateDataRequest(start_date="20241301")))),
         "job.config.target.data_validation.start_date"),
        (sync_job("bad", cron_expression="* * * * *"), "job.cron_expression"),
        (sync_job("bad", interval_seconds=0, cron_expression="not a cron"), "job.cron_expression"),
        (sync_job("bad", timezone="Mars/Olympus"), "job.timezone"),
        (sync_job("bad", config=pb.JobConfig(pipeline=pb.PipelineConfig(steps=[
            pb.PipelineStep(name="a", target=pb.TargetConfig(data_sync=sync_pb2.StartSyncRequest()), depends_on=["b"]),
            pb.PipelineStep(name="b", target=pb.TargetConfig(data_sync=sync_pb2.StartSyncRequest()), depends_on=["a"]),
        ]))), "job.config.pipeline.steps"),
    ],
)  # fmt: skip
async def test_bad_specs_are_invalid_argument_naming_the_field(stack, spec, field):
    identity = stack.channel("identity")
    _, carol = await create_user(identity, "carol")
    jobs = scheduler_pb2_grpc.SchedulerServiceStub(stack.channel("scheduler"))
    refused = await expect_error(jobs.CreateJob(pb.CreateJobRequest(job=spec), metadata=carol),
                                 grpc.StatusCode.INVALID_ARGUMENT)  # fmt: skip
    assert field in refused.fields, refused.fields
