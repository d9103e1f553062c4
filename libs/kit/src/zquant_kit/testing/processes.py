"""Services as separate `zquant serve <name>` processes, as distributed mode runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from zquant_kit.testing.polling import wait_serving
from zquant_kit.testing.users import ADMIN_PASSWORD

ZQUANT_CLI = [sys.executable, "-m", "zquant_kit.cli"]


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any inherited ZQUANT_* variable, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZQUANT_")}
    env.update(settings)
    return env


def served_env(ports: dict[str, int], **settings: str) -> dict[str, str]:
    """A clean environment for `zquant serve`: the seeded admin's password, `ZQUANT_<NAME>_PORT` per service
    in `ports`, and `settings`."""
    listen = {f"ZQUANT_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    return clean_env(ZQUANT_ADMIN_PASSWORD=ADMIN_PASSWORD, **listen, **settings)


def upgrade_databases(env: dict[str, str]) -> None:
    """`zquant db upgrade all` under `env`; fails the test when it fails."""
    subprocess.run(
        [*ZQUANT_CLI, "db", "upgrade", "all"], env=env, check=True, timeout=120, capture_output=True
    )


def serve(name: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """`zquant serve <name>` in the background, its output (stdout and stderr) on a pipe."""
    return subprocess.Popen(
        [*ZQUANT_CLI, "serve", name], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@asynccontextmanager
async def serving(
    env: dict[str, str], ports: dict[str, int], timeout: float = 90.0, *, upgrade: bool = True
) -> AsyncIterator[dict[str, str]]:
    """Upgrades the databases (unless `upgrade` is false: a `migrated_pg_database` is current already, and the
    upgrade's own process costs seconds of imports), starts `zquant serve <name>` per service in `ports` and
    waits (up to `timeout` s each) until it is SERVING; yields their addresses. On exit every process gets
    SIGTERM and must end cleanly (exit code 0); when the test failed, each process's output is printed
    (pytest shows it with the failure)."""
    if upgrade:
        upgrade_databases(env)
    processes = {name: serve(name, env) for name in ports}
    addresses = {name: f"127.0.0.1:{port}" for name, port in ports.items()}
    failed = True
    try:
        for name, address in addresses.items():
            await wait_serving(address, processes[name], timeout=timeout)
        yield addresses
        failed = False
    finally:
        for process in processes.values():
            process.terminate()
        for name, process in processes.items():
            output = process.communicate(timeout=20)[0]
            if failed:
                print(f"--- zquant serve {name} (exit {process.returncode}) ---\n{output[-8000:]}")
    assert all(p.returncode == 0 for p in processes.values()), "SIGTERM must shut every service down cleanly"
