"""The factor service's settings, read once from the environment into one frozen object.

Environment (all optional):

| variable | meaning |
|---|---|
| `ZQUANT_FACTOR_BLOCK_REFRESH_SECONDS` | how often years written since the last refresh are packed into blocks (PostgreSQL; reads are correct before, only slower); 0 turns it off (default 300) |
"""

from __future__ import annotations

from dataclasses import dataclass

from zquant_kit.infrastructure import ServiceConfig
from zquant_kit.settings import Settings

NAME = "factor"


def _seconds(settings: Settings, name: str, default: str) -> float:
    raw = settings.get(name, default)
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if seconds < 0:
        raise ValueError(f"{name} must not be negative")
    return seconds


@dataclass(frozen=True)
class FactorConfig:
    kit: ServiceConfig
    block_refresh_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> FactorConfig:
        return cls(
            kit=ServiceConfig.from_settings(NAME, settings),
            block_refresh_seconds=_seconds(settings, "ZQUANT_FACTOR_BLOCK_REFRESH_SECONDS", "300"),
        )
