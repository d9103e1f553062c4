"""The backtest service's settings, read once from the environment into one frozen object.

Environment (all optional):

| variable | meaning |
|---|---|
| `ZQUANT_MARKETDATA_ADDRESS` | where marketdata's RPCs are read (default 127.0.0.1 on its port) |
| `ZQUANT_FACTOR_ADDRESS` | where factor's RPCs are read (the vectorised templates' factors) |
| `ZQUANT_BACKTEST_JOB_CONCURRENCY` | backtests one instance runs at a time (default 1; 0: this instance only serves the API) |
| `ZQUANT_BACKTEST_MAX_ATTEMPTS` | attempts per task, a lost worker's included, before it fails (default 3) |
| `ZQUANT_BACKTEST_TASK_TIMEOUT_SECONDS` | a task's limit from its submit, queued time included (default 7200); then it fails |
| `ZQUANT_BACKTEST_JOB_ACK_WAIT_SECONDS` | NATS: how long a silent worker keeps its task before another gets it (default 30) |
| `ZQUANT_BACKTEST_PANEL_CACHE_MB` | the on-disk market panel cache's bound, least recently used out first (default 2048) |
| `ZQUANT_NATS_URL` | set: tasks go through a NATS JetStream work queue (stream `<ZQUANT_NATS_STREAM>_BACKTEST_JOBS`, subjects `<ZQUANT_EVENT_SUBJECT_PREFIX>jobs.backtest.…`); unset: an in-process queue |
"""

from __future__ import annotations

from dataclasses import dataclass

from zquant_backtest.application.submission import QueuePolicy
from zquant_kit.infrastructure import ServiceConfig
from zquant_kit.jobs.config import JobQueueConfig
from zquant_kit.jobs.model import MAX_ATTEMPTS_LIMIT
from zquant_kit.settings import Settings

NAME = "backtest"


@dataclass(frozen=True)
class BacktestConfig:
    kit: ServiceConfig
    marketdata_address: str
    factor_address: str
    jobs: JobQueueConfig
    policy: QueuePolicy
    panel_cache_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BacktestConfig:
        return cls(
            kit=ServiceConfig.from_settings(NAME, settings),
            marketdata_address=settings.address("marketdata"),
            factor_address=settings.address("factor"),
            jobs=JobQueueConfig.from_settings(
                NAME,
                settings,
                concurrency=int(settings.number("ZQUANT_BACKTEST_JOB_CONCURRENCY", "1", 0, 64)),
                ack_wait_seconds=settings.number("ZQUANT_BACKTEST_JOB_ACK_WAIT_SECONDS", "30", 1, 3600),
            ),
            policy=QueuePolicy(
                max_attempts=int(settings.number("ZQUANT_BACKTEST_MAX_ATTEMPTS", "3", 1, MAX_ATTEMPTS_LIMIT)),
                timeout_seconds=settings.number("ZQUANT_BACKTEST_TASK_TIMEOUT_SECONDS", "7200", 10, 7 * 86400),
            ),
            panel_cache_bytes=int(settings.number("ZQUANT_BACKTEST_PANEL_CACHE_MB", "2048", 16, 1 << 20)) << 20,
        )
