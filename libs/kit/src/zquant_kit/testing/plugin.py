"""The pytest plugin: throw-away PostgreSQL databases, NATS namespaces, private NATS servers, and the
`expect_error` / `eventually` helpers as fixtures (for conftest-style tests that take them by name).

Loaded by the root conftest (`pytest_plugins`). Tests never stop the machine's shared servers;
fault tests start their own `nats-server -js` through `own_nats`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from zquant_kit.testing import errors, polling
from zquant_kit.testing.databases import throwaway_database
from zquant_kit.testing.nats import NATS_URL, OwnNatsServer, drop_namespace


@pytest.fixture
def pg_database() -> Iterator[str]:
    """SQLAlchemy URL of a fresh PostgreSQL database for one test."""
    with throwaway_database() as url:
        yield url


@pytest.fixture(scope="module")
def module_pg_database() -> Iterator[str]:
    """SQLAlchemy URL of a fresh PostgreSQL database shared by one test module (migrating is slow)."""
    with throwaway_database() as url:
        yield url


@pytest.fixture
def nats_namespace() -> Iterator[dict[str, str]]:
    """A unique stream name and subject prefix on the shared NATS; afterwards its event stream and every
    stream named after it (job queues and their cancel streams) are deleted."""
    suffix = uuid.uuid4().hex[:10]
    namespace = {"url": NATS_URL, "stream": f"ZQ_TEST_{suffix}", "prefix": f"zqt{suffix}"}
    yield namespace
    asyncio.run(drop_namespace(namespace))


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[OwnNatsServer]:
    server = OwnNatsServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def expect_error() -> Callable[[Any, grpc.StatusCode], Awaitable[errors.ErrorDetails]]:
    """`await expect_error(stub.Rpc(request, metadata=...), grpc.StatusCode.X)` → ErrorDetails."""
    return errors.expect_error


@pytest.fixture
def eventually() -> Callable[..., Awaitable[Any]]:
    """`await eventually(fetch, check)` polls `fetch()` every 50 ms (≤ 3 s) until `check(result)`; returns it."""
    return polling.eventually
