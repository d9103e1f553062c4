"""Where a service's jobs queue, read once from the environment, and the queue that config selects."""

from __future__ import annotations

from dataclasses import dataclass

from zquant_kit.jobs.inprocess import InProcessJobQueue
from zquant_kit.jobs.nats_jetstream import DEFAULT_ACK_WAIT_SECONDS, NatsJetStreamJobQueue
from zquant_kit.jobs.port import JobQueue
from zquant_kit.settings import Settings


@dataclass(frozen=True)
class JobQueueConfig:
    """`nats_url` empty: the in-process queue (all-in-one). `concurrency`: jobs one instance runs at a time."""

    nats_url: str
    stream: str
    prefix: str
    concurrency: int
    ack_wait_seconds: float = DEFAULT_ACK_WAIT_SECONDS

    @classmethod
    def from_settings(
        cls,
        service: str,
        settings: Settings,
        *,
        concurrency: int,
        ack_wait_seconds: float = DEFAULT_ACK_WAIT_SECONDS,
    ) -> JobQueueConfig:
        """Stream `<ZQUANT_NATS_STREAM>_<SERVICE>_JOBS`, subjects `<ZQUANT_EVENT_SUBJECT_PREFIX>jobs.<service>.…`;
        the service parses its own concurrency and ack wait (their variables and bounds are its own)."""
        return cls(
            nats_url=settings.nats_url,
            stream=f"{settings.nats_stream}_{service.upper()}_JOBS",
            prefix=f"{settings.subject_prefix}jobs.{service}",
            concurrency=concurrency,
            ack_wait_seconds=ack_wait_seconds,
        )

    def queue(self) -> JobQueue:
        """NATS JetStream when a NATS URL is set (any number of instances share the jobs), else in-process."""
        if self.nats_url:
            return NatsJetStreamJobQueue(
                self.nats_url, stream=self.stream, prefix=self.prefix, ack_wait_seconds=self.ack_wait_seconds
            )
        return InProcessJobQueue()
