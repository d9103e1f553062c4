"""`zquant db …` from the shell: upgrade, current, backup of the embedded SQLite files."""

import os
import sqlite3
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def _zquant(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "zquant_kit.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_upgrade_current_and_online_backup(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZQUANT_")}
    env["ZQUANT_DATA_DIR"] = str(tmp_path / "data")
    before = _zquant("db", "current", "identity", env=env)
    assert before.returncode == 0 and "zquant db upgrade identity" in before.stdout
    assert _zquant("db", "upgrade", env=env).returncode == 0
    assert "up to date" in _zquant("db", "current", env=env).stdout

    backup = _zquant("db", "backup", str(tmp_path / "backup"), env=env)
    assert backup.returncode == 0, backup.stderr
    for service in ("identity", "marketdata"):
        copy = sqlite3.connect(tmp_path / "backup" / f"{service}.db")
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        copy.close()


def test_upgrade_creates_a_missing_postgresql_database():
    import psycopg

    from zquant_kit.testing import clean_env, conninfo, throwaway_database

    with throwaway_database(create=False) as url:
        name = url.rsplit("/", 1)[1]
        env = clean_env(ZQUANT_IDENTITY_DATABASE_URL=url)
        result = _zquant("db", "upgrade", "identity", env=env)
        assert result.returncode == 0, result.stderr
        assert f"created PostgreSQL database {name}" in result.stdout
        with psycopg.connect(conninfo(url)) as connection:
            assert connection.execute("SELECT version_num FROM identity.alembic_version").fetchone()[0]
        again = _zquant("db", "upgrade", "identity", env=env)
        assert again.returncode == 0 and "created" not in again.stdout
