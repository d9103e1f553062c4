"""The `make demo` path: all-in-one on SQLite with the in-process bus, from a clean data directory."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_runs_the_main_flow(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZQUANT_")}
    env["ZQUANT_DATA_DIR"] = str(tmp_path)
    env["ZQUANT_SAMPLE_STOCKS"] = "30"
    result = subprocess.run(
        [sys.executable, "-m", "zquant_kit.cli", "demo"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for expected in (
        "GetMe → alice (researcher)",
        "GetMe via API key → alice",
        "consumer received user.deleted",
        "alice's API key now fails: UNAUTHENTICATED",
        "rows left",
        "succeeded rsi6",
        "succeeded close_vs_ma20",
        "0 factors left",
        "demo finished OK",
    ):
        assert expected in result.stdout, result.stdout
    assert (tmp_path / "identity.db").exists() and (tmp_path / "marketdata.db").exists()
    assert (tmp_path / "factor.db").exists()
    table = result.stdout.split("horizon", 1)[1].splitlines()[1:5]  # the factor analysis: 1, 5, 10, 20 days
    assert [row.split()[0] for row in table] == ["1d", "5d", "10d", "20d"], result.stdout
    assert all(len(row.split()) == 11 for row in table), table
    assert "100.0%" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines() if " fetched " in line]
    loaded = {row[0] for row in rows if row[1] != "skipped"}
    assert "index_daily" in loaded and not [row for row in rows if row[1] == "skipped" and row[0] in loaded], rows
    assert "000905.SH skipped" in result.stdout  # what the sample lacks is the loaded dataset's note
