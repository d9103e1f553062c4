"""The factor service's typed settings, read once from the environment-backed kit `Settings`."""

from __future__ import annotations

from dataclasses import dataclass

from zquant_kit.settings import Settings

NAME = "factor"


@dataclass(frozen=True)
class FactorSettings:
    """`block_refresh_seconds`: how often years written since the last refresh are packed into blocks
    (PostgreSQL; reads are correct before, only slower). 0 turns the background refresh off."""

    database_url: str
    tracing: bool
    outbox_poll_seconds: float
    block_refresh_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> FactorSettings:
        refresh = settings.get("ZQUANT_FACTOR_BLOCK_REFRESH_SECONDS", "300")
        try:
            block_refresh_seconds = float(refresh)
        except ValueError:
            raise ValueError(
                f"ZQUANT_FACTOR_BLOCK_REFRESH_SECONDS must be a number of seconds, not {refresh!r}"
            ) from None
        if block_refresh_seconds < 0:
            raise ValueError("ZQUANT_FACTOR_BLOCK_REFRESH_SECONDS must not be negative")
        return cls(
            database_url=settings.database_url(NAME),
            tracing=settings.otel_exporter != "none",
            outbox_poll_seconds=settings.outbox_poll_seconds,
            block_refresh_seconds=block_refresh_seconds,
        )
