"""values area wiring: the value and indicator-state stores, and the background packing of written years
into blocks (PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from zquant_factor.adapters.sqlalchemy.state_store import SqlAlchemyIndicatorStateStore
from zquant_factor.adapters.sqlalchemy.value_store import (
    PostgresFactorValueStore,
    SqliteFactorValueStore,
    factor_value_store,
)
from zquant_kit.infrastructure import Infrastructure

_log = logging.getLogger(__name__)


@dataclass
class ValueComponents:
    values: PostgresFactorValueStore | SqliteFactorValueStore
    states: SqlAlchemyIndicatorStateStore


def wire(infra: Infrastructure, block_refresh_seconds: float) -> ValueComponents:
    components = ValueComponents(
        factor_value_store(infra.engine, infra.config.database_url),
        SqlAlchemyIndicatorStateStore(infra.engine),
    )
    if block_refresh_seconds > 0:
        _refresh_in_background(infra, components.values, block_refresh_seconds)
    return components


def _refresh_in_background(
    infra: Infrastructure, values: PostgresFactorValueStore | SqliteFactorValueStore, interval: float
) -> None:
    task: asyncio.Task[None] | None = None

    async def refresh_forever() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await values.refresh_blocks()
            # A failed refresh leaves the years stale: reads stay correct, the next one retries.
            except Exception:
                _log.exception("factor value block refresh failed")

    async def start() -> None:
        nonlocal task
        task = asyncio.create_task(refresh_forever(), name="factor-block-refresh")

    async def stop() -> None:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    infra.on_start(start)
    infra.on_stop(stop)
