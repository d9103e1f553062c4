"""Settings from environment variables (the table in README.md lists them all)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import platformdirs

DEFAULT_PORTS = {
    "identity": 50051,
    "marketdata": 50052,
    "factor": 50053,
    "backtest": 50054,
    "scheduler": 50055,
    "gateway": 8000,
}

T = TypeVar("T")


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


class _Env(Generic[T]):
    """A read-only setting: variable `name` (or `default` when unset) through `parse`."""

    def __init__(self, name: str, default: str, parse: Callable[[str], T]) -> None:
        self.name, self.default, self.parse = name, default, parse

    def __get__(self, settings: Settings, owner: type | None = None) -> T:
        return self.parse(settings.get(self.name, self.default))


@dataclass(frozen=True)
class Settings:
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def get(self, name: str, default: str = "") -> str:
        return self.env.get(name, default)

    def flag(self, name: str) -> bool:
        """A yes/no setting: 1, true, yes or on (any case) is yes; unset is no."""
        return _bool(self.get(name))

    def number(self, name: str, default: str, low: float, high: float = float("inf")) -> float:
        """A numeric setting in [low, high]; anything else stops the start with the variable's name."""
        raw = self.get(name) or default
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{name} must be a number, not {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"{name} must be in [{low:g}, {high:g}], not {raw}")
        return value

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

    nats_url = _Env("ZQUANT_NATS_URL", "", str)
    nats_stream = _Env("ZQUANT_NATS_STREAM", "ZQUANT_EVENTS", str)
    subject_prefix = _Env("ZQUANT_EVENT_SUBJECT_PREFIX", "zq", str)
    grpc_reflection = _Env("ZQUANT_GRPC_REFLECTION", "true", _bool)
    otel_exporter = _Env("ZQUANT_OTEL_EXPORTER", "none", str.lower)
    outbox_poll_seconds = _Env("ZQUANT_OUTBOX_POLL_SECONDS", "1.0", float)
    jwt_issuer = _Env("ZQUANT_JWT_ISSUER", "zquant-identity", str)
    jwt_audience = _Env("ZQUANT_JWT_AUDIENCE", "zquant", str)
    shutdown_grace_seconds = _Env("ZQUANT_SHUTDOWN_GRACE_SECONDS", "5", float)
    # On SIGTERM: how long health says NOT_SERVING while calls are still served, so balancers see it.
    readiness_grace_seconds = _Env("ZQUANT_READINESS_GRACE_SECONDS", "2", float)

    @property
    def event_bus(self) -> str:
        """`nats` (distributed) or `inprocess` (all-in-one); defaults to nats when a URL is set."""
        return self.get("ZQUANT_EVENT_BUS") or ("nats" if self.nats_url else "inprocess")

    def with_overrides(self, **values: str) -> Settings:
        merged = dict(self.env)
        merged.update(values)
        return Settings(merged)
