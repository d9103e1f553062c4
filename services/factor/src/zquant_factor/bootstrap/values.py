"""values area wiring: the value and indicator-state stores, and the background packing of written years
into blocks (PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from zquant_factor.adapters.sqlalchemy.state_store import SqlAlchemyIndicatorStateStore
from zquant_factor.adapters.sqlalchemy.value_store import factor_value_store

if TYPE_CHECKING:
    from zquant_factor.bootstrap import FactorApp

_log = logging.getLogger(__name__)


def wire(app: FactorApp) -> None:
    app.values = factor_value_store(app.engine, app.config.database_url)
    app.states = SqlAlchemyIndicatorStateStore(app.engine)
    interval = app.config.block_refresh_seconds
    if interval <= 0:
        return
    task: asyncio.Task[None] | None = None

    async def refresh_forever() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await app.values.refresh_blocks()
            except (
                Exception
            ):  # a failed refresh leaves the years stale: reads stay correct, the next one retries
                _log.exception("factor value block refresh failed")

    async def start() -> None:
        nonlocal task
        task = asyncio.create_task(refresh_forever(), name="factor-block-refresh")

    async def stop() -> None:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.on_start(start)
    app.on_stop(stop)
