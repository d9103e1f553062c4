"""The pytest plugin: throw-away PostgreSQL databases (empty, or copies of a migrated template), NATS
namespaces, private NATS servers, and the `expect_error` / `eventually` helpers as fixtures (for
conftest-style tests that take them by name).

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
from zquant_kit.testing.databases import BackgroundDrops, MigratedTemplates, throwaway_database
from zquant_kit.testing.nats import NATS_URL, OwnNatsServer, drop_namespace

_DROPS = pytest.StashKey[BackgroundDrops]()
_TEMPLATES = pytest.StashKey[MigratedTemplates]()


@pytest.fixture(scope="session")
def database_drops(request: pytest.FixtureRequest) -> BackgroundDrops:
    """The session's background drops of per-test databases, all done when the session finishes."""
    return request.config.stash.setdefault(_DROPS, BackgroundDrops())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Waits for the session's drops and drops its templates here, not in a fixture's teardown: that would run
    inside the last test's timeout, and on a busy server the queued `DROP DATABASE … WITH (FORCE)` can take
    minutes (they wait on checkpoints), failing a test that passed."""
    stash = session.config.stash
    if (drops := stash.get(_DROPS, None)) is not None:
        drops.finish()
    if (templates := stash.get(_TEMPLATES, None)) is not None:
        templates.drop()


@pytest.fixture
def pg_database(database_drops: BackgroundDrops) -> Iterator[str]:
    """SQLAlchemy URL of a fresh PostgreSQL database for one test."""
    with throwaway_database(drops=database_drops) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_templates(request: pytest.FixtureRequest) -> MigratedTemplates:
    """The session's template databases, one per set of migrated services (each built on first use), dropped
    when the session finishes."""
    return request.config.stash.setdefault(_TEMPLATES, MigratedTemplates())


@pytest.fixture
def migrated_services() -> tuple[str, ...]:
    """The services whose schemas `migrated_pg_database` holds; empty: every installed one. A conftest whose
    stacks run fewer (identity alone) overrides it, so its session never migrates the others."""
    return ()


@pytest.fixture
def migrated_pg_database(
    migrated_templates: MigratedTemplates, migrated_services: tuple[str, ...], database_drops: BackgroundDrops
) -> Iterator[str]:
    """SQLAlchemy URL of a fresh PostgreSQL database for one test, the `migrated_services`' schemas already at
    head (a copy of the session's template): for tests that start services, which would otherwise migrate it."""
    template = migrated_templates.name(migrated_services)
    with throwaway_database(template=template, drops=database_drops) as url:
        yield url


@pytest.fixture(scope="module")
def module_pg_database(database_drops: BackgroundDrops) -> Iterator[str]:
    """SQLAlchemy URL of a fresh PostgreSQL database shared by one test module (migrating is slow)."""
    with throwaway_database(drops=database_drops) as url:
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
