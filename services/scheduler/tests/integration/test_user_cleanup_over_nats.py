"""Deleting a user in identity removes their jobs in the scheduler, through identity's outbox and real NATS
JetStream, and cancels their unended runs; another user's job stays."""

from __future__ import annotations

import pytest

from zquant.marketdata.v1 import sync_pb2
from zquant.scheduler.v1 import scheduler_pb2 as pb
from zquant.scheduler.v1 import scheduler_pb2_grpc
from zquant_kit.testing import (
    admin_metadata,
    create_user,
    delete_user,
    eventually,
    nats_stack,
)

pytestmark = pytest.mark.integration


def nightly(name: str) -> pb.CreateJobRequest:
    config = pb.JobConfig(target=pb.TargetConfig(data_sync=sync_pb2.StartSyncRequest()))
    return pb.CreateJobRequest(job=pb.JobSpec(name=name, interval_seconds=3600, enabled=True, config=config))


async def test_user_deleted_crosses_nats_and_removes_their_jobs(pg_database, nats_namespace):
    async with nats_stack(pg_database, nats_namespace, "identity", "scheduler") as client:
        identity = client.channel("identity")
        admin = await admin_metadata(identity)
        gone, nadia = await create_user(identity, "nadia", admin=admin)
        _, omar = await create_user(identity, "omar", admin=admin)
        jobs = scheduler_pb2_grpc.SchedulerServiceStub(client.channel("scheduler"))
        await jobs.CreateJob(nightly("mine"), metadata=nadia)
        kept = (await jobs.CreateJob(nightly("theirs"), metadata=omar)).job

        await delete_user(identity, gone.id, admin)

        async def every_job():
            return [job.id for job in (await jobs.ListJobs(pb.ListJobsRequest(), metadata=admin)).jobs]

        assert await eventually(every_job, lambda ids: ids == [kept.id], timeout=5.0)
