"""The environment of services (identity + marketdata unless named) started as separate `zquant serve <name>`
processes on PostgreSQL + NATS."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc

from zquant_kit.testing import free_port, nats_settings, served_env, serving


def distributed_env(
    pg_database: str,
    nats_namespace: dict,
    data_dir: str,
    names: tuple[str, ...] = ("identity", "marketdata"),
    **extra: str,
) -> tuple[dict, dict]:
    """Free ports per service in `names`, each on a schema of `pg_database`, and a clean environment (no
    inherited ZQUANT_*), plus `extra` settings."""
    ports = {name: free_port() for name in names}
    settings = {
        **{f"ZQUANT_{name.upper()}_DATABASE_URL": pg_database for name in names},
        "ZQUANT_MARKETDATA_SOURCE": "sample",
        "ZQUANT_SAMPLE_STOCKS": "10",
        "ZQUANT_SAMPLE_DAYS": "30",
        "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
        "ZQUANT_DATA_DIR": data_dir,
        **nats_settings(nats_namespace),
        **extra,
    }
    env = served_env(ports, **settings)
    return ports, env


@asynccontextmanager
async def identity_and_marketdata(env: dict, ports: dict) -> AsyncIterator[tuple[grpc.aio.Channel, grpc.aio.Channel]]:
    """Both services served as separate processes (see `serving`), and a channel to each: (identity, marketdata).
    The database is a `migrated_pg_database` (`zquant db upgrade` itself is tested in test_distributed.py)."""
    async with (
        serving(env, ports, upgrade=False) as addresses,
        grpc.aio.insecure_channel(addresses["identity"]) as identity,
        grpc.aio.insecure_channel(addresses["marketdata"]) as marketdata,
    ):
        yield identity, marketdata
