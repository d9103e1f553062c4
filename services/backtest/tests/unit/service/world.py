"""The service's use cases over fakes: the in-memory unit of work, the kit's in-process job queue with the
real worker handler serving it, fake market/templates/renderer, and an executor of the test's choice."""

from __future__ import annotations

import asyncio
import datetime as dt
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from services.backtest.tests.fakes.executors import DeterministicExecutor
from services.backtest.tests.fakes.ports import (
    FakeMarketCatalog,
    FakeRenderer,
    FakeTemplates,
    UnprobedChecker,
)
from services.backtest.tests.fakes.unit_of_work import FakeBacktestUnitOfWork, Store, fake_database
from zquant_backtest.application.run_ports import RunExecutor
from zquant_backtest.application.strategies import StrategyUseCases
from zquant_backtest.application.submission import JOB_KIND, BacktestSubmission, QueuePolicy, SubmitRequest
from zquant_backtest.application.task_follower import TaskFollower
from zquant_backtest.application.task_outcomes import TaskOutcomes
from zquant_backtest.application.task_queries import TaskQueries
from zquant_backtest.application.task_results import TaskResults
from zquant_backtest.application.task_worker import TaskWorker
from zquant_backtest.application.user_cleanup import UserCleanup
from zquant_kit.jobs.inprocess import InProcessJobQueue
from zquant_kit.principal import Principal
from zquant_kit.tasks import cancel_and_wait
from zquant_kit.testing import FakeClock, FakeDatabase

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
"""Real time: the job queue holds each task to a deadline counted from its submit."""
RESEARCHER = frozenset(
    {"backtest:run", "backtest:read", "backtest:delete", "strategy:read", "strategy:write", "strategy:delete"}
)
ALICE = Principal("alice-id", "alice", "researcher", RESEARCHER)
BOB = Principal("bob-id", "bob", "researcher", RESEARCHER)
ADMIN = Principal("admin-id", "admin", "admin", RESEARCHER)
VIEWER = Principal("viewer-id", "viewer", "viewer", frozenset({"backtest:read", "strategy:read"}))
CODE = "def handle_bar(context, bar):\n    pass\n"


def request(**changes) -> SubmitRequest:
    base = dict(
        code=CODE, codes=("600000.SH",), start=dt.date(2024, 1, 2), end=dt.date(2024, 3, 29),
        initial_cash=1_000_000.0,
    )  # fmt: skip
    base.update(changes)
    return SubmitRequest(**base)


@dataclass
class World:
    executor: RunExecutor
    database: FakeDatabase[Store] = field(default_factory=fake_database)
    clock: FakeClock = field(default_factory=lambda: FakeClock(NOW))
    queue: InProcessJobQueue = field(default_factory=lambda: InProcessJobQueue(retry_delay_seconds=0.01))
    renderer: FakeRenderer = field(default_factory=FakeRenderer)
    policy: QueuePolicy = field(default_factory=QueuePolicy)

    def __post_init__(self) -> None:
        uow = self.uow
        self.outcomes = TaskOutcomes(uow, self.clock)
        templates = FakeTemplates()
        self.strategies = StrategyUseCases(uow, UnprobedChecker(), templates, self.clock)
        self.submission = BacktestSubmission(
            uow, self.queue, FakeMarketCatalog(), UnprobedChecker(), templates, self.clock, self.policy
        )
        self.queries = TaskQueries(uow, self.outcomes, self.queue)
        self.results = TaskResults(uow, self.renderer)
        self.worker = TaskWorker(self.outcomes, self.executor, progress_seconds=0.0)
        self.cleanup = UserCleanup(uow, self.queue)

    def uow(self) -> FakeBacktestUnitOfWork:
        return FakeBacktestUnitOfWork(self.database)

    def task(self, task_id: str):
        return self.database.store.tasks[task_id]

    async def until_final(self, task_id: str, timeout: float = 5.0):
        async with asyncio.timeout(timeout):
            while not self.task(task_id).state.final:
                await asyncio.sleep(0.005)
        return self.task(task_id)


@asynccontextmanager
async def running(executor: RunExecutor | None = None, **options):
    """The world with its worker loop and follower running, stopped afterwards."""
    world = World(executor or DeterministicExecutor(), **options)
    updates = await world.queue.watch(JOB_KIND)
    loops = [
        asyncio.create_task(world.queue.serve(JOB_KIND, world.worker.handle, concurrency=2)),
        asyncio.create_task(TaskFollower(world.outcomes).follow(updates)),
    ]
    try:
        yield world
    finally:
        for loop in loops:
            await cancel_and_wait(loop)
        await world.queue.close()
