"""NATS for tests: the shared server's URL and a private `nats-server -js` a test may stop."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import nats

NATS_URL = os.environ.get("ZQUANT_TEST_NATS_URL", "nats://127.0.0.1:4222")


def nats_settings(namespace: dict[str, str]) -> dict[str, str]:
    """The settings that put a stack's event bus on a `nats_namespace` (its URL, stream and subject prefix)."""
    return {
        "ZQUANT_EVENT_BUS": "nats",
        "ZQUANT_NATS_URL": namespace["url"],
        "ZQUANT_NATS_STREAM": namespace["stream"],
        "ZQUANT_EVENT_SUBJECT_PREFIX": namespace["prefix"],
    }


def namespace_streams(names: list[str], stream: str) -> list[str]:
    """The streams a namespace owns among `names`: its event stream, and the ones named after it
    (a service's job queue `<stream>_FACTOR_JOBS`, the queue's cancel stream `<stream>_FACTOR_JOBS_CANCEL`)."""
    return [name for name in names if name == stream or name.startswith(f"{stream}_")]


async def drop_namespace(namespace: dict[str, str]) -> list[str]:
    """Deletes every stream the namespace owns on its server; returns their names."""
    nc = await nats.connect(namespace["url"], connect_timeout=2, max_reconnect_attempts=0)
    try:
        js = nc.jetstream()
        names: list[str] = []
        while page := await js.streams_info(offset=len(names)):  # the server answers in pages
            names += [info.config.name or "" for info in page]
        owned = namespace_streams(names, namespace["stream"])
        for name in owned:
            await js.delete_stream(name)
        return owned
    finally:
        await nc.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OwnNatsServer:
    """A private `nats-server -js` on a free port that a test may stop and restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._store = workdir / "jetstream"
        self._process: subprocess.Popen[bytes] | None = None

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
