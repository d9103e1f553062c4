"""Task area wiring: the job queue, its worker loop (unless this instance only serves the API), the follower
that keeps records in step with the queue's verdicts, the consumers, and BacktestService.

Stop order (the reverse of the hooks added here): the worker loop and the follower are cancelled first, then
the queue closes, so no handler runs on a closed queue.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from zquant.backtest.v1 import backtest_pb2_grpc
from zquant_backtest.adapters.grpc.backtest_servicer import BacktestServicer
from zquant_backtest.application.data_versions import CONSUMER as VERSION_CONSUMER
from zquant_backtest.application.data_versions import SYNC_COMPLETED, DataVersionTracker
from zquant_backtest.application.market_ports import MarketCatalog
from zquant_backtest.application.report_ports import ReportRenderer, TemplateCatalog
from zquant_backtest.application.run_ports import RunExecutor
from zquant_backtest.application.submission import JOB_KIND, BacktestSubmission, QueuePolicy
from zquant_backtest.application.task_follower import TaskFollower
from zquant_backtest.application.task_outcomes import TaskOutcomes
from zquant_backtest.application.task_queries import TaskQueries
from zquant_backtest.application.task_recovery import resubmit_unfinished
from zquant_backtest.application.task_results import TaskResults
from zquant_backtest.application.task_worker import TaskWorker
from zquant_backtest.application.unit_of_work_ports import UnitOfWorkFactory
from zquant_backtest.application.user_cleanup import CONSUMER as CLEANUP_CONSUMER
from zquant_backtest.application.user_cleanup import USER_DELETED, UserCleanup
from zquant_backtest.application.validation_ports import StrategyChecker
from zquant_backtest.bootstrap.config import JobQueueConfig
from zquant_kit.clock import Clock
from zquant_kit.grpc.server import GrpcService
from zquant_kit.infrastructure import Infrastructure
from zquant_kit.jobs import JobQueue
from zquant_kit.jobs.inprocess import InProcessJobQueue
from zquant_kit.jobs.nats_jetstream import NatsJetStreamJobQueue
from zquant_kit.tasks import cancel_and_wait


@dataclass
class TaskComponents:
    queue: JobQueue
    submission: BacktestSubmission
    queries: TaskQueries
    results: TaskResults
    outcomes: TaskOutcomes
    worker: TaskWorker
    versions: DataVersionTracker


@dataclass(frozen=True)
class TaskPorts:
    executor: RunExecutor
    market: MarketCatalog
    renderer: ReportRenderer
    templates: TemplateCatalog
    checker: StrategyChecker


def policy_of(config: JobQueueConfig) -> QueuePolicy:
    return QueuePolicy(max_attempts=config.max_attempts, timeout_seconds=config.timeout_seconds)


def job_queue(config: JobQueueConfig) -> JobQueue:
    """NATS JetStream when a NATS URL is set (any number of workers share the tasks), else in-process."""
    if config.nats_url:
        return NatsJetStreamJobQueue(
            config.nats_url,
            stream=config.stream,
            prefix=config.prefix,
            ack_wait_seconds=config.ack_wait_seconds,
        )
    return InProcessJobQueue()


def _run_in_background(
    infra: Infrastructure,
    queue: JobQueue,
    components: TaskComponents,
    config: JobQueueConfig,
    uow: UnitOfWorkFactory,
) -> None:
    running: list[asyncio.Task[None]] = []

    async def start() -> None:
        await queue.start()
        updates = await queue.watch(JOB_KIND)
        follower = TaskFollower(components.outcomes)
        running.append(asyncio.create_task(follower.follow(updates), name="backtest-task-follower"))
        if config.concurrency:
            serve = queue.serve(JOB_KIND, components.worker.handle, concurrency=config.concurrency)
            running.append(asyncio.create_task(serve, name="backtest-jobs"))
        if isinstance(queue, InProcessJobQueue):
            await resubmit_unfinished(uow, queue, policy_of(config))

    async def stop() -> None:
        for task in reversed(running):
            await cancel_and_wait(task)
        await queue.close()

    infra.on_start(start)
    infra.on_stop(stop)


def wire(
    infra: Infrastructure,
    config: JobQueueConfig,
    clock: Clock,
    uow: UnitOfWorkFactory,
    ports: TaskPorts,
    services: list[GrpcService],
) -> TaskComponents:
    queue = job_queue(config)
    outcomes = TaskOutcomes(uow, clock)
    submission = BacktestSubmission(
        uow, queue, ports.market, ports.checker, ports.templates, clock, policy_of(config)
    )
    components = TaskComponents(
        queue=queue,
        submission=submission,
        queries=TaskQueries(uow, outcomes, queue),
        results=TaskResults(uow, ports.renderer),
        outcomes=outcomes,
        worker=TaskWorker(outcomes, ports.executor),
        versions=DataVersionTracker(uow, clock),
    )
    services.append(
        GrpcService(
            "zquant.backtest.v1.BacktestService",
            BacktestServicer(submission, components.queries, components.results, queue),
            backtest_pb2_grpc.add_BacktestServiceServicer_to_server,
        )
    )
    _run_in_background(infra, queue, components, config, uow)
    infra.subscribe(CLEANUP_CONSUMER, USER_DELETED, UserCleanup(uow, queue).on_user_deleted)
    infra.subscribe(VERSION_CONSUMER, SYNC_COMPLETED, components.versions.on_sync_completed)
    return components
