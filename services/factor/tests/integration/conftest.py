"""The factor app on either database (PostgreSQL, SQLite), migrated, wired, not serving."""

from __future__ import annotations

import pytest

from zquant_factor.bootstrap import SERVICE, FactorConfig, build
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.runner import upgrade_all
from zquant_kit.settings import Settings


@pytest.fixture(params=["postgres", "sqlite"])
async def app(request, tmp_path):
    if request.param == "postgres":
        url = request.getfixturevalue("migrated_pg_database")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'factor.db'}"
    settings = Settings(
        {
            "ZQUANT_FACTOR_DATABASE_URL": url,
            "ZQUANT_EVENT_BUS": "inprocess",
        }
    )
    await upgrade_all([SERVICE], settings)
    app = build(FactorConfig.from_settings(settings), InProcessEventBus())
    yield app
    await app.stop()
