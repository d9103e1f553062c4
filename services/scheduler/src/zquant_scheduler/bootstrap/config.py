"""The scheduler's settings, read once from the environment into one frozen object.

Environment (all optional):

| variable | meaning |
|---|---|
| `ZQUANT_MARKETDATA_ADDRESS`, `ZQUANT_FACTOR_ADDRESS` | the targets (default 127.0.0.1 on their ports) |
| `ZQUANT_SCHEDULER_TICK_SECONDS` | how often a replica looks for due jobs (default 0.2; slots are claimed up to the lookahead early) |
| `ZQUANT_SCHEDULER_BATCH` | jobs one claim transaction takes at most (default 200) |
| `ZQUANT_SCHEDULER_LEASE_SECONDS` | how long a replica holds a run between renewals; a dead replica's runs are taken over after it (default 30) |
| `ZQUANT_SCHEDULER_MISFIRE_GRACE_SECONDS` | a slot later than this is a misfire, handled by the job's policy (default 60) |
| `ZQUANT_SCHEDULER_LOOKAHEAD_SECONDS` | slots due this soon are claimed early and fired on time (default 0.5) |
| `ZQUANT_SCHEDULER_MAX_IN_FLIGHT` | runs one replica executes at once (default 2000) |
"""

from __future__ import annotations

from dataclasses import dataclass

from zquant_kit.infrastructure import ServiceConfig
from zquant_kit.settings import Settings
from zquant_scheduler.application.claiming import ClaimSettings
from zquant_scheduler.application.scheduling_loop import LoopSettings

NAME = "scheduler"


@dataclass(frozen=True)
class SchedulerConfig:
    kit: ServiceConfig
    marketdata_address: str
    factor_address: str
    backtest_address: str
    claims: ClaimSettings
    loop: LoopSettings

    @classmethod
    def from_settings(cls, settings: Settings) -> SchedulerConfig:
        return cls(
            kit=ServiceConfig.from_settings(NAME, settings),
            marketdata_address=settings.address("marketdata"),
            factor_address=settings.address("factor"),
            backtest_address=settings.address("backtest"),
            claims=ClaimSettings(
                batch=int(settings.number("ZQUANT_SCHEDULER_BATCH", "200", 1e-3)),
                lease_seconds=settings.number("ZQUANT_SCHEDULER_LEASE_SECONDS", "30", 1e-3),
                misfire_grace_seconds=settings.number("ZQUANT_SCHEDULER_MISFIRE_GRACE_SECONDS", "60", 1e-3),
                lookahead_seconds=settings.number("ZQUANT_SCHEDULER_LOOKAHEAD_SECONDS", "0.5", 1e-3),
            ),
            loop=LoopSettings(
                tick_seconds=settings.number("ZQUANT_SCHEDULER_TICK_SECONDS", "0.2", 1e-3),
                max_in_flight=int(settings.number("ZQUANT_SCHEDULER_MAX_IN_FLIGHT", "2000", 1e-3)),
            ),
        )
