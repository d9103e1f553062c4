"""What a service hands the kit: its name, schema, migrations and a bootstrap (found via entry points)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol, TypeVar

from zquant_kit.events.model import EventBus
from zquant_kit.grpc.handlers import ServerInterceptor
from zquant_kit.grpc.server import GrpcService
from zquant_kit.settings import Settings


class ServiceApp(Protocol):
    """A wired service: its gRPC servicers plus the background work (relay, consumers). Each service's
    bootstrap returns a dataclass of its own with these fields, over the kit's `Infrastructure`."""

    @property
    def name(self) -> str: ...

    @property
    def grpc_services(self) -> Sequence[GrpcService]: ...

    @property
    def interceptors(self) -> Sequence[ServerInterceptor]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


Config = TypeVar("Config")
App = TypeVar("App", bound=ServiceApp)


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    schema: str
    migrations: Path
    bootstrap: Callable[[Settings, EventBus], Awaitable[ServiceApp]]

    @classmethod
    def composed(
        cls,
        name: str,
        schema: str,
        migrations: Path,
        parse: Callable[[Settings], Config],
        build: Callable[[Config, EventBus], App],
    ) -> ServiceDefinition:
        """The usual shape: `bootstrap` parses the service's own typed config once, then calls its `build`."""

        async def bootstrap(settings: Settings, bus: EventBus) -> ServiceApp:
            return build(parse(settings), bus)

        return cls(name=name, schema=schema, migrations=migrations, bootstrap=bootstrap)


def discover() -> dict[str, ServiceDefinition]:
    """Services register under the `zquant.services` entry point group, so the kit never imports them."""
    found = {ep.name: ep.load() for ep in entry_points(group="zquant.services")}
    from zquant_kit.settings import DEFAULT_PORTS

    return dict(sorted(found.items(), key=lambda item: DEFAULT_PORTS.get(item[0], 99999)))
