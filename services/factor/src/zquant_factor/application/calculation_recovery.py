"""Jobs the service's records show queued or running when it stopped are queued again when it starts.

The in-process queue forgets its jobs with the process, and a submit whose record was committed may never have
reached the broker; either way the record would stay queued or running forever. Each unfinished job is
submitted again under its own id, which the job queue treats as the idempotency key, so one still queued there
(JetStream, within its duplicate window) is not queued twice; a copy delivered after its job finished finds the
record final and does nothing. No credential is kept with a job: a resubmitted one reads market data with its
owner's token as identity issues it when the job runs (calculation_credentials), like any other.
"""

from __future__ import annotations

from zquant.factor.v1 import calculation_pb2
from zquant_factor.application.calculation_jobs import JOB_KIND
from zquant_factor.application.calculation_ports import CalculationUnitOfWorkFactory
from zquant_kit.jobs import JobQueue


class CalculationRecovery:
    def __init__(self, uow: CalculationUnitOfWorkFactory, queue: JobQueue) -> None:
        self._uow = uow
        self._queue = queue

    async def resubmit_unfinished(self) -> list[str]:
        """Queues every unfinished job again, oldest first; returns their ids. Run after the queue started."""
        async with self._uow() as uow:
            job_ids = [record.id for record in await uow.calculations.list_unfinished()]
        for job_id in job_ids:
            payload = calculation_pb2.CalculationJobPayload(job_id=job_id)
            await self._queue.submit(JOB_KIND, payload.SerializeToString(), job_id=job_id)
        return job_ids
