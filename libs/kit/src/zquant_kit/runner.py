"""Starts services: all in one process (in-process bus) or one per process (NATS), same code."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field

from zquant_kit import files, redaction, telemetry
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.events.model import EventBus
from zquant_kit.events.nats_jetstream import NatsJetStreamBus
from zquant_kit.grpc.server import GrpcServer
from zquant_kit.persistence import migrations
from zquant_kit.service import ServiceApp, ServiceDefinition
from zquant_kit.settings import Settings

log = logging.getLogger(__name__)


def make_event_bus(settings: Settings) -> EventBus:
    if settings.event_bus == "nats":
        if not settings.nats_url:
            raise ValueError("ZQUANT_EVENT_BUS=nats needs ZQUANT_NATS_URL")
        return NatsJetStreamBus(
            settings.nats_url, stream=settings.nats_stream, prefix=settings.subject_prefix
        )
    if settings.event_bus == "inprocess":
        return InProcessEventBus()
    raise ValueError(f"ZQUANT_EVENT_BUS must be nats or inprocess, not {settings.event_bus!r}")


async def upgrade_all(definitions: list[ServiceDefinition], settings: Settings) -> None:
    for definition in definitions:
        await migrations.upgrade(
            definition.migrations, settings.database_url(definition.name), definition.schema
        )


@dataclass
class RunningStack:
    bus: EventBus
    apps: dict[str, ServiceApp] = field(default_factory=dict)
    servers: dict[str, GrpcServer] = field(default_factory=dict)

    def address(self, name: str) -> str:
        return self.servers[name].local_address

    async def stop(self, grace_seconds: float = 5.0, readiness_grace_seconds: float = 0.0) -> None:
        """Every server turns NOT_SERVING at once and serves on for the readiness grace (balancers see it),
        then all drain together; the services' background work stops after their servers."""
        servers = [self.servers[name] for name in reversed(list(self.servers))]
        for server in servers:
            await server.not_serving()
        if servers:
            await asyncio.sleep(readiness_grace_seconds)
        await asyncio.gather(*(server.drain(grace_seconds) for server in servers))
        for name in reversed(list(self.apps)):
            await self.apps[name].stop()
        await self.bus.close()


async def start_stack(
    definitions: list[ServiceDefinition],
    settings: Settings,
    *,
    bus: EventBus | None = None,
    ephemeral_ports: bool = False,
) -> RunningStack:
    """Refuses an outdated schema; then wires each service, starts its server, its relay and consumers."""
    stack = RunningStack(bus=bus or make_event_bus(settings))
    files.tighten_existing(settings.data_dir)
    redaction.install()
    try:
        for definition in definitions:
            await migrations.ensure_current(
                definition.name,
                definition.migrations,
                settings.database_url(definition.name),
                definition.schema,
            )
        await stack.bus.start()
        for definition in definitions:
            tracing = telemetry.configure(definition.name, settings.otel_exporter)
            app = await definition.bootstrap(settings, stack.bus)
            stack.apps[definition.name] = app
            server = GrpcServer(
                app.grpc_services,
                interceptors=[*telemetry.server_interceptors(tracing), *app.interceptors],
                reflection_enabled=settings.grpc_reflection,
                host=settings.bind_host,
                port=0 if ephemeral_ports else settings.port(definition.name),
            )
            await server.listen()
            stack.servers[definition.name] = server
            # Services started later reach this one where it actually listens (matters with port 0).
            settings = settings.with_overrides(
                **{f"ZQUANT_{definition.name.upper()}_ADDRESS": stack.address(definition.name)}
            )
            await app.start()
            await server.serving()  # health says SERVING once the service's start-up work is done
            log.info("%s serving on %s", definition.name, server.bound_address)
    except BaseException:
        await stack.stop(0)
        raise
    return stack


async def serve_until_signalled(definitions: list[ServiceDefinition], settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    stack = await start_stack(definitions, settings)
    for name in stack.servers:
        print(f"{name:<11} grpc  {stack.servers[name].bound_address}", flush=True)
    await stop.wait()
    log.info(
        "shutting down: health NOT_SERVING, serving on for %.1f s, then draining for %.1f s",
        settings.readiness_grace_seconds, settings.shutdown_grace_seconds,
    )  # fmt: skip
    await stack.stop(settings.shutdown_grace_seconds, settings.readiness_grace_seconds)
