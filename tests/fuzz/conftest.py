"""The stacks the fuzz walk runs against: every discovered service, in both modes.

* all-in-one: SQLite files in a temporary data directory, the in-process bus;
* distributed storage: PostgreSQL (one throw-away database) and NATS JetStream (one throw-away stream),
  in one process, which exercises the same adapters as one process per service.
"""

from __future__ import annotations

import pytest

from zquant_kit.settings import Settings
from zquant_kit.testing import ADMIN_PASSWORD, nats_settings, running_stack, services

# A tiny sample market so that a fuzzed StartSync finishes (or is cancelled) quickly.
_COMMON = {
    "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
    "ZQUANT_MARKETDATA_SOURCE": "sample",
    "ZQUANT_SAMPLE_STOCKS": "5",
    "ZQUANT_SAMPLE_DAYS": "10",
    "ZQUANT_GRPC_REFLECTION": "false",
}


def _all_in_one(tmp_path) -> dict[str, str]:
    return {**_COMMON, "ZQUANT_DATA_DIR": str(tmp_path), "ZQUANT_EVENT_BUS": "inprocess"}


def _distributed(pg_database: str, nats_namespace: dict, definitions) -> dict[str, str]:
    env = {**_COMMON, **nats_settings(nats_namespace)}
    for definition in definitions:
        env[f"ZQUANT_{definition.name.upper()}_DATABASE_URL"] = pg_database
    return env


@pytest.fixture(params=["all-in-one", "distributed"])
async def fuzz_stack(request, tmp_path):
    """Every service found through the `zquant.services` entry points, started on port 0."""
    definitions = services()
    if request.param == "all-in-one":
        env = _all_in_one(tmp_path)
    else:
        env = _distributed(
            request.getfixturevalue("migrated_pg_database"), request.getfixturevalue("nats_namespace"), definitions
        )
    async with running_stack(definitions, Settings(env)) as client:
        yield request.param, client.stack
