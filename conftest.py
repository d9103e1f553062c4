"""Fixtures shared by every test layer: throw-away PostgreSQL databases and NATS streams.

Tests never stop the machine's shared servers; fault tests start their own `nats-server -js`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest

PG_ADMIN_DSN = os.environ.get("ZQUANT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("ZQUANT_TEST_NATS_URL", "nats://127.0.0.1:4222")
SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_url(dbname: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


@pytest.fixture
def pg_database():
    """A fresh PostgreSQL database for one test; dropped afterwards (FORCE ends stray sessions)."""
    name = f"zq_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def nats_namespace():
    """A unique stream name and subject prefix on the shared NATS, deleted afterwards."""
    suffix = uuid.uuid4().hex[:10]
    namespace = {"url": NATS_URL, "stream": f"ZQ_TEST_{suffix}", "prefix": f"zqt{suffix}"}
    yield namespace
    import asyncio

    import nats

    async def drop():
        nc = await nats.connect(NATS_URL)
        try:
            await nc.jetstream().delete_stream(namespace["stream"])
        except Exception:
            pass
        await nc.close()

    asyncio.run(drop())


class OwnNatsServer:
    """A private `nats-server -js` on a free port that a test may stop and restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._store = workdir / "jetstream"
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        self._process = subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self._store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("own nats-server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@pytest.fixture
def own_nats(tmp_path):
    server = OwnNatsServer(tmp_path)
    yield server
    server.stop()
