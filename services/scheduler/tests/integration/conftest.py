"""The scheduler's database URL on either backend (PostgreSQL, SQLite)."""

from __future__ import annotations

import pytest

from zquant_kit.testing import BACKENDS, backend_database


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    return backend_database(request, tmp_path, "scheduler")
