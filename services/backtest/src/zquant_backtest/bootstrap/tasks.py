"""Task area wiring: the job queue, its worker loop (unless this instance only serves the API), the follower
that keeps records in step with the queue's verdicts, the consumers, and BacktestService.

Stop order (the reverse of the hooks added here): the worker loop and the follower are cancelled first, then
the queue closes, so no handler runs on a closed queue.
"""

from __future__ import annotations

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
from zquant_kit.clock import Clock
from zquant_kit.grpc.server import GrpcService
from zquant_kit.infrastructure import Infrastructure
from zquant_kit.jobs import JobQueue
from zquant_kit.jobs.background import QueueLoops, run_with_service
from zquant_kit.jobs.config import JobQueueConfig
from zquant_kit.jobs.inprocess import InProcessJobQueue


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


def _run_in_background(
    infra: Infrastructure,
    queue: JobQueue,
    components: TaskComponents,
    config: JobQueueConfig,
    policy: QueuePolicy,
    uow: UnitOfWorkFactory,
) -> None:
    async def started(loops: QueueLoops) -> None:
        updates = await queue.watch(JOB_KIND)
        loops.start(TaskFollower(components.outcomes).follow(updates), "backtest-task-follower")
        if config.concurrency:
            loops.start(
                queue.serve(JOB_KIND, components.worker.handle, concurrency=config.concurrency), "backtest-jobs"
            )
        if isinstance(queue, InProcessJobQueue):
            await resubmit_unfinished(uow, queue, policy)

    run_with_service(infra, queue, started)


def wire(
    infra: Infrastructure,
    config: JobQueueConfig,
    policy: QueuePolicy,
    clock: Clock,
    uow: UnitOfWorkFactory,
    ports: TaskPorts,
    services: list[GrpcService],
) -> TaskComponents:
    queue = config.queue()
    outcomes = TaskOutcomes(uow, clock)
    submission = BacktestSubmission(
        uow, queue, ports.market, ports.checker, ports.templates, clock, policy
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
    _run_in_background(infra, queue, components, config, policy, uow)
    infra.subscribe(CLEANUP_CONSUMER, USER_DELETED, UserCleanup(uow, queue).on_user_deleted)
    infra.subscribe(VERSION_CONSUMER, SYNC_COMPLETED, components.versions.on_sync_completed)
    return components
