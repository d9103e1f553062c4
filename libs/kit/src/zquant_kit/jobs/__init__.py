"""Jobs: long work a service queues, runs on any worker, reports progress on, and can cancel.

`JobQueue` is the port; `InProcessJobQueue` serves the all-in-one mode and `NatsJetStreamJobQueue` the
distributed one. Payloads are bytes the service serialises (protobuf), never pickles."""

from zquant_kit.jobs.model import Job, JobFailed, JobHandler, JobState, JobUpdate, ProgressReporter
from zquant_kit.jobs.port import JobQueue
from zquant_kit.jobs.updates import JobUpdates

__all__ = [
    "Job",
    "JobFailed",
    "JobHandler",
    "JobQueue",
    "JobState",
    "JobUpdate",
    "JobUpdates",
    "ProgressReporter",
]
