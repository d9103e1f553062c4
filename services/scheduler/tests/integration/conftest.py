"""The scheduler's database URL on either backend (PostgreSQL, SQLite)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("pg_database")
    return f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}"
