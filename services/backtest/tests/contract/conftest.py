"""The backtest adapters' market: marketdata's own contract fixtures (identity + marketdata on a throw-away
PostgreSQL database, the real bank market loaded), and a worker pool for the executor."""

from collections.abc import AsyncIterator

import pytest

from services.marketdata.tests.conftest import (  # noqa: F401  (fixtures)
    marketdata,
    marketdata_extra_settings,
    marketdata_settings,
)
from services.marketdata.tests.contract.conftest import market  # noqa: F401  (fixture)
from zquant_backtest.adapters.worker_executor import WORKER_PRELOAD
from zquant_kit.workers import WorkerProcesses


@pytest.fixture
async def workers() -> AsyncIterator[WorkerProcesses]:
    pool = WorkerProcesses(1, (*WORKER_PRELOAD, "services.backtest.tests.executor.runs"))
    yield pool
    await pool.close()
