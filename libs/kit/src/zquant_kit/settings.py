"""Settings from environment variables (the table in README.md lists them all)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

DEFAULT_PORTS = {
    "identity": 50051,
    "marketdata": 50052,
    "factor": 50053,
    "backtest": 50054,
    "scheduler": 50055,
    "gateway": 8000,
}


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def get(self, name: str, default: str = "") -> str:
        return self.env.get(name, default)

    @property
    def data_dir(self) -> Path:
        return Path(self.get("ZQUANT_DATA_DIR") or platformdirs.user_data_dir("zquant"))

    def database_url(self, service: str) -> str:
        """Per-service URL; the embedded default is one SQLite file per service."""
        url = self.get(f"ZQUANT_{service.upper()}_DATABASE_URL")
        if url:
            return url
        return f"sqlite+aiosqlite:///{self.data_dir / f'{service}.db'}"

    def port(self, service: str) -> int:
        return int(self.get(f"ZQUANT_{service.upper()}_PORT") or DEFAULT_PORTS[service])

    @property
    def bind_host(self) -> str:
        """Where servers listen: loopback unless a cluster sets `0.0.0.0` (or an interface address) explicitly."""
        return self.get("ZQUANT_BIND_HOST") or "127.0.0.1"

    def address(self, service: str) -> str:
        """Where clients reach a service (host:port)."""
        return self.get(f"ZQUANT_{service.upper()}_ADDRESS") or f"127.0.0.1:{self.port(service)}"

    @property
    def nats_url(self) -> str:
        return self.get("ZQUANT_NATS_URL")

    @property
    def event_bus(self) -> str:
        """`nats` (distributed) or `inprocess` (all-in-one); defaults to nats when a URL is set."""
        return self.get("ZQUANT_EVENT_BUS") or ("nats" if self.nats_url else "inprocess")

    @property
    def nats_stream(self) -> str:
        return self.get("ZQUANT_NATS_STREAM", "ZQUANT_EVENTS")

    @property
    def subject_prefix(self) -> str:
        return self.get("ZQUANT_EVENT_SUBJECT_PREFIX", "zq")

    @property
    def grpc_reflection(self) -> bool:
        return _bool(self.get("ZQUANT_GRPC_REFLECTION", "true"))

    @property
    def otel_exporter(self) -> str:
        return self.get("ZQUANT_OTEL_EXPORTER", "none").lower()

    @property
    def outbox_poll_seconds(self) -> float:
        return float(self.get("ZQUANT_OUTBOX_POLL_SECONDS", "1.0"))

    @property
    def jwt_issuer(self) -> str:
        return self.get("ZQUANT_JWT_ISSUER", "zquant-identity")

    @property
    def jwt_audience(self) -> str:
        return self.get("ZQUANT_JWT_AUDIENCE", "zquant")

    @property
    def shutdown_grace_seconds(self) -> float:
        return float(self.get("ZQUANT_SHUTDOWN_GRACE_SECONDS", "5"))

    @property
    def readiness_grace_seconds(self) -> float:
        """On SIGTERM: how long health says NOT_SERVING while calls are still served, so balancers see it."""
        return float(self.get("ZQUANT_READINESS_GRACE_SECONDS", "2"))

    def with_overrides(self, **values: str) -> Settings:
        merged = dict(self.env)
        merged.update(values)
        return Settings(merged)
