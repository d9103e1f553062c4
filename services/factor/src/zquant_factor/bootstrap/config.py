"""The factor service's settings, read once from the environment into one frozen object.

Environment (all optional):

| variable | meaning |
|---|---|
| `ZQUANT_MARKETDATA_ADDRESS` | where marketdata's RPCs are read (default 127.0.0.1 on its port) |
| `ZQUANT_FACTOR_WORKERS` | worker processes the calculations and reads compute in (default 2) |
| `ZQUANT_FACTOR_JOB_CONCURRENCY` | calculation jobs one instance runs at a time (default 1) |
| `ZQUANT_FACTOR_AUTO_UPDATE` | `true`: a sync of bars or adj_factor queues an incremental job per enabled stale factor |
| `ZQUANT_NATS_URL` | set: jobs go through a NATS JetStream work queue (stream `<ZQUANT_NATS_STREAM>_FACTOR_JOBS`, subjects `<ZQUANT_EVENT_SUBJECT_PREFIX>jobs.factor.…`); unset: an in-process queue |
"""

from __future__ import annotations

from dataclasses import dataclass

from zquant_factor.application.staleness import AUTO_UPDATE_SETTING
from zquant_kit.infrastructure import ServiceConfig
from zquant_kit.jobs.config import JobQueueConfig
from zquant_kit.settings import Settings

NAME = "factor"


@dataclass(frozen=True)
class FactorConfig:
    kit: ServiceConfig
    marketdata_address: str
    workers: int
    auto_update: bool
    jobs: JobQueueConfig

    @classmethod
    def from_settings(cls, settings: Settings) -> FactorConfig:
        return cls(
            kit=ServiceConfig.from_settings(NAME, settings),
            marketdata_address=settings.address("marketdata"),
            workers=max(1, int(settings.number("ZQUANT_FACTOR_WORKERS", "2", 0))),
            auto_update=settings.flag(AUTO_UPDATE_SETTING),
            jobs=JobQueueConfig.from_settings(
                NAME,
                settings,
                concurrency=max(1, int(settings.number("ZQUANT_FACTOR_JOB_CONCURRENCY", "1", 0))),
            ),
        )
