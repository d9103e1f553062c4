"""The backtest app on either database (PostgreSQL, SQLite), migrated, wired with the test fakes, not serving."""

from __future__ import annotations

import pytest

from services.backtest.tests.contract.conftest import fake_adapters
from zquant_backtest.bootstrap import BacktestConfig, build, definition
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.runner import upgrade_all
from zquant_kit.settings import Settings
from zquant_kit.testing import BACKENDS, backend_database


@pytest.fixture(params=BACKENDS)
async def app(request, tmp_path):
    url = backend_database(request, tmp_path, "backtest")
    settings = Settings({"ZQUANT_BACKTEST_DATABASE_URL": url, "ZQUANT_EVENT_BUS": "inprocess"})
    await upgrade_all([definition(fake_adapters())], settings)
    app = build(BacktestConfig.from_settings(settings), InProcessEventBus(), fake_adapters())
    yield app
    await app.stop()
