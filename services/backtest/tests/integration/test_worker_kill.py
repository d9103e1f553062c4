"""Backtest workers killed -9 mid-task, on real PostgreSQL + NATS JetStream, each killed worker its own
process: a task killed on its last attempt ends failed with the queue's reason (heard by the other worker);
a task killed with an attempt left is redelivered and ends succeeded. Never left running. The test process serves the API side only (submit, the records, the
follower; no job loop)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import nats
import pytest
from sqlalchemy import func, select

from services.backtest.tests.contract.conftest import fake_adapters
from services.backtest.tests.fakes.executors import SlowExecutor
from services.backtest.tests.fakes.ports import FakeMarketCatalog, FakeTemplates, UnprobedChecker
from services.backtest.tests.unit.service.world import ALICE, request
from zquant_backtest.adapters.sqlalchemy import tables
from zquant_backtest.application.submission import BacktestSubmission, QueuePolicy
from zquant_backtest.bootstrap import BacktestConfig, build, definition
from zquant_backtest.domain.tasks import TaskState
from zquant_kit.clock import SystemClock
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.runner import upgrade_all
from zquant_kit.settings import Settings
from zquant_kit.testing import clean_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

ROOT = Path(__file__).resolve().parents[4]
WORKER = Path(__file__).with_name("worker_process.py")
ACK_WAIT_SECONDS = 2


def _env(pg_database: str, nats_namespace: dict) -> dict[str, str]:
    return clean_env(
        ZQUANT_BACKTEST_DATABASE_URL=pg_database,
        ZQUANT_EVENT_BUS="inprocess",
        ZQUANT_NATS_URL=nats_namespace["url"],
        ZQUANT_NATS_STREAM=nats_namespace["stream"],
        ZQUANT_EVENT_SUBJECT_PREFIX=nats_namespace["prefix"],
        ZQUANT_OUTBOX_POLL_SECONDS="0.2",
        ZQUANT_BACKTEST_JOB_CONCURRENCY="1",
        ZQUANT_BACKTEST_JOB_ACK_WAIT_SECONDS=str(ACK_WAIT_SECONDS),
        ZQUANT_TEST_SLOW_STEPS="30",
        ZQUANT_TEST_SLOW_STEP_SECONDS="0.1",
        PYTHONPATH=str(ROOT),
    )


class Worker:
    """One `worker_process.py`, its output lines collected by a reader thread."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def said(self, line: str) -> bool:
        return line in self.lines

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


async def _until(condition, timeout: float, what: str):
    async with asyncio.timeout(timeout):
        while not (found := await condition()):
            await asyncio.sleep(0.1)
    assert found, what
    return found


async def _drop_job_streams(namespace: dict) -> None:
    nc = await nats.connect(namespace["url"])
    try:
        for suffix in ("_BACKTEST_JOBS", "_BACKTEST_JOBS_CANCEL"):
            try:
                await nc.jetstream().delete_stream(namespace["stream"] + suffix)
            except Exception:
                pass
    finally:
        await nc.close()


async def test_killed_workers_tasks_are_redelivered_then_failed_on_the_last_attempt(
    pg_database, nats_namespace
):
    env = _env(pg_database, nats_namespace)
    await upgrade_all([definition(fake_adapters())], Settings(env))
    config = BacktestConfig.from_settings(Settings({**env, "ZQUANT_BACKTEST_JOB_CONCURRENCY": "0"}))
    api = build(config, InProcessEventBus(), fake_adapters())
    await api.start()
    workers = [Worker(env) for _ in range(2)]

    def submission(max_attempts: int) -> BacktestSubmission:
        return BacktestSubmission(
            api.unit_of_work, api.tasks.queue, FakeMarketCatalog(), UnprobedChecker(), FakeTemplates(), SystemClock(),
            QueuePolicy(max_attempts=max_attempts),
        )  # fmt: skip

    async def kill_the_one_running(task_id: str) -> None:
        async def holder():
            return next(
                (w for w in workers if w.process.poll() is None and w.said(f"started {task_id}")), None
            )

        (await _until(holder, 60, f"no worker started {task_id}")).kill()

    async def final(task_id: str):
        async def ended():
            record = await api.tasks.queries.get(ALICE, task_id)
            return record if record.state.final else None

        return await _until(ended, 60, f"{task_id} never ended")

    try:
        for worker in workers:
            await _until(lambda w=worker: asyncio.sleep(0, w.said("ready")), 90, "a worker did not start")
        last = await submission(1).submit(ALICE, request())
        await kill_the_one_running(last.id)
        lost = await final(last.id)
        assert lost.state is TaskState.FAILED, lost
        assert lost.error == "worker lost during the last of 1 attempts" and lost.attempts == 1

        retried = await submission(2).submit(ALICE, request())
        await kill_the_one_running(retried.id)
        # Both worker processes are gone now: a worker in this process takes the redelivered attempt.
        rescue = build(
            BacktestConfig.from_settings(Settings(env)),
            InProcessEventBus(),
            fake_adapters(SlowExecutor(3, 0.05)),
        )
        await rescue.start()
        try:
            done = await final(retried.id)
        finally:
            await rescue.stop()
        assert done.state is TaskState.SUCCEEDED and done.attempts == 2 and done.fingerprint, done
        async with api.sessions() as session:
            query = (
                select(func.count())
                .select_from(tables.outbox)
                .where(tables.outbox.c.event_type == "backtest.failed.v1")
            )
            assert (await session.execute(query)).scalar_one() == 1
    finally:
        for worker in workers:
            worker.stop()
        await api.stop()
        await _drop_job_streams(nats_namespace)
