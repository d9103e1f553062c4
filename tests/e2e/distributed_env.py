"""The environment of identity + marketdata started as separate `zquant serve <name>` processes on PostgreSQL + NATS."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc

from zquant_kit.testing import free_port, nats_settings, served_env, serving


def distributed_env(pg_database: str, nats_namespace: dict, data_dir: str, **extra: str) -> tuple[dict, dict]:
    """Free ports per service and a clean environment (no inherited ZQUANT_*), plus `extra` settings."""
    ports = {"identity": free_port(), "marketdata": free_port()}
    env = served_env(
        ports,
        ZQUANT_IDENTITY_DATABASE_URL=pg_database,
        ZQUANT_MARKETDATA_DATABASE_URL=pg_database,
        ZQUANT_MARKETDATA_SOURCE="sample",
        ZQUANT_SAMPLE_STOCKS="10",
        ZQUANT_SAMPLE_DAYS="30",
        ZQUANT_OUTBOX_POLL_SECONDS="0.2",
        ZQUANT_DATA_DIR=data_dir,
        **nats_settings(nats_namespace),
        **extra,
    )
    return ports, env


@asynccontextmanager
async def identity_and_marketdata(env: dict, ports: dict) -> AsyncIterator[tuple[grpc.aio.Channel, grpc.aio.Channel]]:
    """Both services served as separate processes (see `serving`), and a channel to each: (identity, marketdata)."""
    async with (
        serving(env, ports) as addresses,
        grpc.aio.insecure_channel(addresses["identity"]) as identity,
        grpc.aio.insecure_channel(addresses["marketdata"]) as marketdata,
    ):
        yield identity, marketdata
