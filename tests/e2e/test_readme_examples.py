"""README.md stays true: its marked `zquant call` and Python blocks run as written against a real
`zquant serve all` on the sample market, and an API key signs a `zquant call`."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zquant_kit.testing import ADMIN_PASSWORD, ZQUANT_CLI, free_port, served_env, upgrade_databases

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
MARK = "<!-- tests/e2e/test_readme_examples.py runs this block"


def _blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    pattern = re.escape(MARK) + r"[^\n]*\n```" + language + r"\n(.*?)\n```"
    return re.findall(pattern, text, flags=re.S)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("readme")
    ports = {"identity": free_port(), "marketdata": free_port()}
    env = served_env(
        ports,
        ZQUANT_DATA_DIR=str(data),
        ZQUANT_SAMPLE_STOCKS="20",
        ZQUANT_READINESS_GRACE_SECONDS="0",
    )
    upgrade_databases(env)
    log = data / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([*ZQUANT_CLI, "serve", "all"], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(600):  # the addresses are printed once every server listens
            if "marketdata  grpc" in log.read_text() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None, log.read_text()
        client = {k: v for k, v in env.items() if k != "ZQUANT_ADMIN_PASSWORD"}
        client["ZQUANT_PASSWORD"] = ADMIN_PASSWORD
        client["ZQUANT_IDENTITY_ADDRESS"] = f"127.0.0.1:{ports['identity']}"
        yield client
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_the_zquant_call_block_runs_as_written(served):
    (block,) = _blocks("bash")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block], cwd=ROOT, env=served, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"username": "admin"' in result.stdout and '"status": "SERVING"' in result.stdout
    assert '"state": "succeeded"' in result.stdout
    bars = json.loads(result.stdout[result.stdout.index('{\n  "bars"'):].split("\n}\n")[0] + "\n}")
    assert {b["tsCode"] for b in bars["bars"]} == {"000001.SZ", "600000.SH"}
    assert '"tsCode": "600000.SH"' in result.stdout.split('"bars"')[1]  # the favorite was listed


def test_the_python_block_runs_as_a_script(served, tmp_path):
    (block,) = _blocks("python")
    script = tmp_path / "me.py"
    script.write_text(block)
    result = subprocess.run([sys.executable, str(script)], env=served, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["token: admin admin", "API key: admin"]


def test_zquant_call_signs_with_an_api_key_and_reports_errors(served, monkeypatch, capsys):
    """In-process (`main([...])`), as the shell would run it, to keep the test quick."""
    from zquant_kit.cli import main

    for name, value in served.items():
        monkeypatch.setenv(name, value)

    def zquant(*args, **env) -> tuple[int, str, str]:
        for name in ("ZQUANT_TOKEN", "ZQUANT_API_KEY", "ZQUANT_API_SECRET"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(SystemExit) as exited:
            main(list(args))
            raise SystemExit(0)
        out = capsys.readouterr()
        return exited.value.code or 0, out.out, out.err

    _, token, _ = zquant("login")
    status, out, err = zquant("call", "zquant.identity.v1.ApiKeyService/CreateApiKey", '{"name":"shell"}', ZQUANT_TOKEN=token.strip())
    assert status == 0, err
    key = json.loads(out)
    status, out, err = zquant(
        "call", "zquant.identity.v1.UserService/GetMe", ZQUANT_API_KEY=key["apiKey"]["id"], ZQUANT_API_SECRET=key["secret"]
    )
    assert status == 0 and json.loads(out)["user"]["username"] == "admin", err

    status, _, err = zquant("call", "zquant.identity.v1.UserService/GetMe")
    assert status == 1 and err.startswith("ERROR UNAUTHENTICATED: ")
    status, _, err = zquant(
        "call", "zquant.marketdata.v1.MarketDataService/GetBars", '{"ts_codes":["000001.SZ"],"start_date":"2024"}',
        ZQUANT_TOKEN=token.strip(),
    )  # fmt: skip
    assert status == 1 and "INVALID_ARGUMENT" in err and "fieldViolations" in err, err
    status, _, err = zquant("call", "zquant.nothing.v1.Nope/Missing", ZQUANT_TOKEN=token.strip())
    assert status == 2 and "no method zquant.nothing.v1.Nope/Missing" in err
    status, _, err = zquant("call", "zquant.identity.v1.UserService/GetMe", "{nope", ZQUANT_TOKEN=token.strip())
    assert status == 2 and "request body" in err
