"""The factor app on either database (PostgreSQL, SQLite), migrated, wired, not serving."""

from __future__ import annotations

import pytest

from zquant_factor.bootstrap import SERVICE, FactorConfig, build
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.runner import upgrade_all
from zquant_kit.settings import Settings
from zquant_kit.testing import BACKENDS, backend_database


@pytest.fixture(params=BACKENDS)
async def app(request, tmp_path):
    url = backend_database(request, tmp_path, "factor", postgres="migrated_pg_database")
    settings = Settings({"ZQUANT_FACTOR_DATABASE_URL": url, "ZQUANT_EVENT_BUS": "inprocess"})
    await upgrade_all([SERVICE], settings)
    app = build(FactorConfig.from_settings(settings), InProcessEventBus())
    yield app
    await app.stop()
