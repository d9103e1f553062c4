"""The factor app on either database (PostgreSQL, SQLite), migrated, wired, not serving."""

from __future__ import annotations

import pytest

from zquant_factor.bootstrap import SERVICE
from zquant_kit.testing import BACKENDS, backend_database, built_app


@pytest.fixture(params=BACKENDS)
async def app(request, tmp_path):
    url = backend_database(request, tmp_path, "factor", postgres="migrated_pg_database")
    async with built_app(SERVICE, url) as app:
        yield app
