"""The job queue over NATS JetStream: any number of workers share one durable pull consumer per kind.

Subjects under the queue's own prefix (kept apart from the event bus's, whose stream holds `<its prefix>.>`):
- `<prefix>.jobs.<kind>`: the work-queue stream `<stream>`; a job leaves it when acked (succeeded, cancelled)
  or terminated (failed). Submits are deduplicated by `Nats-Msg-Id` = job id within the duplicate window.
- `<prefix>.cancel.<job id>`: a limits stream `<stream>_CANCEL` keeps the last cancel per job for a day, so a
  worker checks it before starting a job; workers also listen live, to cancel a handler they are running.
- `<prefix>.updates.<kind>.<job id>`: job updates as JSON on core NATS, for the submitter's `watch`.

A worker heartbeats (`in_progress`) every third of `ack_wait` while its handler runs; a worker that dies
stops heartbeating and JetStream redelivers the job to another after `ack_wait`. The attempt is JetStream's
delivery count, so a lost worker uses up an attempt too; a delivery past `max_attempts` fails the job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from zquant_kit import jetstream
from zquant_kit.jobs.model import (
    MAX_ATTEMPTS_LIMIT,
    Job,
    JobHandler,
    JobState,
    JobUpdate,
    check_kind,
    check_submission,
)
from zquant_kit.jobs.port import JobQueue
from zquant_kit.jobs.running import RunningJobs, retry_delay, update_of
from zquant_kit.jobs.updates import JobUpdates
from zquant_kit.tasks import cancel_and_wait, raise_if_cancelled

log = logging.getLogger(__name__)

_JOB_ID = "Zq-Job-Id"
_MAX_ATTEMPTS = "Zq-Max-Attempts"
_DEADLINE = "Zq-Deadline"
_CANCEL_MEMORY_SECONDS = 24 * 3600.0
_FETCH_SECONDS = 1.0
DEFAULT_ACK_WAIT_SECONDS = 30.0


class NatsJetStreamJobQueue(JobQueue):
    def __init__(
        self,
        url: str,
        *,
        stream: str = "ZQUANT_JOBS",
        prefix: str = "zqjobs",
        ack_wait_seconds: float = DEFAULT_ACK_WAIT_SECONDS,
        duplicate_window_seconds: float = 120.0,
        retry_delay_seconds: float = 1.0,
        publish_timeout_seconds: float = 2.0,
    ) -> None:
        self._url = url
        self._stream = stream
        self._prefix = prefix
        self._ack_wait = ack_wait_seconds
        self._duplicate_window = duplicate_window_seconds
        self._retry_delay = retry_delay_seconds
        self._publish_timeout = publish_timeout_seconds
        self._running = RunningJobs()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._cancels: Subscription | None = None
        self._watchers: list[JobUpdates] = []

    @property
    def _cancel_stream(self) -> str:
        return f"{self._stream}_CANCEL"

    async def start(self) -> None:
        """Connects, creates the two streams if missing, and starts listening for cancels."""
        nc = await jetstream.connect(self._url)
        js = nc.jetstream()
        self._nc, self._js = nc, js
        await jetstream.ensure_stream(
            js,
            api.StreamConfig(
                name=self._stream,
                subjects=[f"{self._prefix}.jobs.>"],
                retention=api.RetentionPolicy.WORK_QUEUE,
                duplicate_window=self._duplicate_window,
                storage=api.StorageType.FILE,
            ),
        )
        await jetstream.ensure_stream(
            js,
            api.StreamConfig(
                name=self._cancel_stream,
                subjects=[f"{self._prefix}.cancel.*"],
                max_msgs_per_subject=1,
                max_age=_CANCEL_MEMORY_SECONDS,
                storage=api.StorageType.FILE,
            ),
        )
        self._cancels = await nc.subscribe(f"{self._prefix}.cancel.*", cb=self._on_cancel)

    async def close(self) -> None:
        for updates in list(self._watchers):
            await updates.close()
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self._nc = self._js = self._cancels = None

    def _client(self) -> Client:
        if self._nc is None:
            raise RuntimeError("NatsJetStreamJobQueue.start() was not awaited")
        return self._nc

    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("NatsJetStreamJobQueue.start() was not awaited")
        return self._js

    async def _enqueue(self, job: Job) -> None:
        headers = {"Nats-Msg-Id": job.id, _JOB_ID: job.id, _MAX_ATTEMPTS: str(job.max_attempts)}
        if job.deadline is not None:
            headers[_DEADLINE] = job.deadline.isoformat()
        ack = await self._jetstream().publish(
            f"{self._prefix}.jobs.{job.kind}", job.payload, headers=headers, timeout=self._publish_timeout
        )
        if not ack.duplicate:
            await self._publish(JobUpdate(job_id=job.id, kind=job.kind, state=JobState.QUEUED))

    async def _serve(self, kind: str, handler: JobHandler, concurrency: int) -> None:
        subject = f"{self._prefix}.jobs.{kind}"
        subscription = await self._jetstream().pull_subscribe(
            subject,
            durable=f"jobs_{kind}",
            stream=self._stream,
            config=api.ConsumerConfig(
                ack_policy=api.AckPolicy.EXPLICIT,
                ack_wait=self._ack_wait,
                # One more than any job may ask for, so a delivery past a job's own limit reaches a worker
                # that fails it with a reason instead of JetStream dropping it silently.
                max_deliver=MAX_ATTEMPTS_LIMIT + 1,
                filter_subject=subject,
            ),
        )
        slots = asyncio.Semaphore(concurrency)
        jobs: set[asyncio.Task[None]] = set()
        try:
            while True:
                raise_if_cancelled()
                await slots.acquire()
                message = await self._fetch_one(subscription)
                if message is None:
                    slots.release()
                    continue
                task = asyncio.create_task(self._process_logged(kind, message, handler), name=f"job:{kind}")
                jobs.add(task)
                task.add_done_callback(jobs.discard)
                task.add_done_callback(lambda _: slots.release())
        finally:
            # Jobs running here are not acked: JetStream gives them to another worker after ack_wait.
            for task in list(jobs):
                await cancel_and_wait(task)
            # The server may still hand a job to the cancelled fetch until that pull request expires
            # (`_FETCH_SECONDS`); such a job is redelivered after ack_wait, as from a lost worker.
            await _unsubscribe(subscription)

    async def _fetch_one(self, subscription: JetStreamContext.PullSubscription) -> Msg | None:
        try:
            messages = await subscription.fetch(batch=1, timeout=_FETCH_SECONDS)
        except nats.errors.TimeoutError:
            return None
        except nats.errors.Error as exc:
            log.warning("job fetch on %s failed: %r; retrying", self._stream, exc)
            await asyncio.sleep(0.5)
            return None
        return messages[0] if messages else None

    async def _process_logged(self, kind: str, message: Msg, handler: JobHandler) -> None:
        """A broker error while acking or publishing leaves the job unacked: JetStream redelivers it."""
        try:
            await self._process(kind, message, handler)
        except nats.errors.Error as exc:
            log.warning("job on %s left for redelivery: %r", message.subject, exc)

    async def _process(self, kind: str, message: Msg, handler: JobHandler) -> None:
        try:
            job = self._job_of(kind, message)
        except (KeyError, ValueError) as exc:
            log.error("terminating malformed job on %s: %r", message.subject, exc)
            await message.term()
            return
        if job.attempt > job.max_attempts:
            last = dataclasses.replace(job, attempt=job.max_attempts)
            reason = f"worker lost during the last of {job.max_attempts} attempts"
            await self._publish(update_of(last, JobState.FAILED, reason))
            await message.term()
            return
        if await self._cancel_requested(job.id):
            self._running.cancel(job.id)
        heartbeat = asyncio.create_task(self._heartbeat(message))
        try:
            outcome = await self._running.attempt(job, handler, self._publish)
        finally:
            await cancel_and_wait(heartbeat)
        if outcome.state in (JobState.SUCCEEDED, JobState.CANCELLED):
            await message.ack()
        elif outcome.state is JobState.FAILED:
            await message.term()
        else:
            await message.nak(delay=retry_delay(job.attempt, self._retry_delay))

    @staticmethod
    def _job_of(kind: str, message: Msg) -> Job:
        headers = message.headers or {}
        deadline = headers.get(_DEADLINE)
        return Job(
            id=headers[_JOB_ID],
            kind=kind,
            payload=message.data,
            attempt=message.metadata.num_delivered,
            max_attempts=int(headers[_MAX_ATTEMPTS]),
            deadline=dt.datetime.fromisoformat(deadline) if deadline else None,
        )

    async def _heartbeat(self, message: Msg) -> None:
        while True:
            await asyncio.sleep(self._ack_wait / 3)
            try:
                await message.in_progress()
            except nats.errors.Error as exc:
                log.warning("job heartbeat on %s failed: %r", message.subject, exc)

    async def cancel(self, job_id: str) -> None:
        check_submission(job_id, 1, None)
        await self._jetstream().publish(f"{self._prefix}.cancel.{job_id}", b"", timeout=self._publish_timeout)

    async def _cancel_requested(self, job_id: str) -> bool:
        try:
            await self._jetstream().get_last_msg(self._cancel_stream, f"{self._prefix}.cancel.{job_id}")
        except NotFoundError:
            return False
        return True

    async def _on_cancel(self, message: Msg) -> None:
        self._running.cancel(message.subject.rsplit(".", 1)[1])

    async def watch(self, kind: str) -> JobUpdates:
        check_kind(kind)
        nc = self._client()
        subscription: Subscription | None = None

        async def forget() -> None:
            self._watchers.remove(updates)
            if subscription is not None and not nc.is_closed:
                await subscription.unsubscribe()

        async def deliver(message: Msg) -> None:
            updates.push(JobUpdate.decode(message.data))

        updates = JobUpdates(on_close=forget)
        self._watchers.append(updates)
        subscription = await nc.subscribe(f"{self._prefix}.updates.{kind}.*", cb=deliver)
        await nc.flush()
        return updates

    async def _publish(self, update: JobUpdate) -> None:
        nc = self._client()
        await nc.publish(f"{self._prefix}.updates.{update.kind}.{update.job_id}", update.encode())


async def _unsubscribe(subscription: JetStreamContext.PullSubscription) -> None:
    try:
        await subscription.unsubscribe()
    except nats.errors.Error as exc:
        log.debug("job subscription already gone: %r", exc)
