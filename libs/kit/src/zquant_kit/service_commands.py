"""Commands that work on a service's own database without serving it (`zquant identity rotate-signing-key`,
`zquant data sync`): the app is wired through the server's own `build`, so the command runs the same code."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from zquant_kit.errors import ZqError
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.events.model import EventBus
from zquant_kit.persistence import migrations
from zquant_kit.service import ServiceApp, ServiceDefinition

App = TypeVar("App", bound=ServiceApp)


async def run_offline(
    prog: str,
    definition: ServiceDefinition,
    database_url: str,
    build: Callable[[EventBus], App],
    command: Callable[[App], Awaitable[int]],
) -> int:
    """Refuses an outdated schema, builds the app on an in-process bus (nothing starts unless `command` starts
    it), runs `command` and stops the app; returns its exit status. A `ZqError` (the schema, or one `command`
    raises) is one line `zquant <prog>: <message>` on stderr and status 2."""
    try:
        await migrations.ensure_current(
            definition.name, definition.migrations, database_url, definition.schema
        )
        app = build(InProcessEventBus())
    except ZqError as exc:
        return _refused(prog, exc)
    try:
        return await command(app)
    except ZqError as exc:
        return _refused(prog, exc)
    finally:
        await app.stop()


def _refused(prog: str, exc: ZqError) -> int:
    print(f"zquant {prog}: {exc.message}", file=sys.stderr)
    return 2
