"""One worker pool per test module (its fork server starts once), a fresh cache and board directory per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from zquant_backtest.adapters.worker_executor import WORKER_PRELOAD
from zquant_kit.workers import WorkerProcesses

RUNS_MODULE = "services.backtest.tests.executor.runs"


@pytest.fixture
async def workers() -> AsyncIterator[WorkerProcesses]:
    pool = WorkerProcesses(1, (*WORKER_PRELOAD, RUNS_MODULE))
    yield pool
    await pool.close()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path
