"""The event a failed or skipped run publishes (identity turns it into a notification of the owner)."""

from __future__ import annotations

import datetime as dt

from zquant.scheduler.v1 import events_pb2
from zquant_kit.events.model import Event
from zquant_kit.timestamps import timestamp
from zquant_scheduler.domain.runs import Run, RunStatus

RUN_FAILED = "scheduler.run.failed.v1"
RUN_SKIPPED = "scheduler.run.skipped.v1"


def run_ended(run: Run, now: dt.datetime) -> Event:
    subject = RUN_FAILED if run.status is RunStatus.FAILED else RUN_SKIPPED
    return Event.create(
        subject,
        events_pb2.RunEndedEvent(
            run_id=run.id, job_id=run.job_id, job_name=run.job_name, owner_id=run.owner_id,
            status=run.status.value, reason=run.error, scheduled_time=timestamp(run.scheduled_time),
            attempts=run.attempts, occur_time=timestamp(now),
        ),  # fmt: skip
    )
