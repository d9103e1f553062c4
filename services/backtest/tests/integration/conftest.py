"""The backtest app on either database (PostgreSQL, SQLite), migrated, wired with the test fakes, not serving."""

from __future__ import annotations

import pytest

from services.backtest.tests.contract.conftest import fake_adapters
from zquant_backtest.bootstrap import definition
from zquant_kit.testing import BACKENDS, backend_database, built_app


@pytest.fixture(params=BACKENDS)
async def app(request, tmp_path):
    async with built_app(definition(fake_adapters()), backend_database(request, tmp_path, "backtest")) as app:
        yield app
