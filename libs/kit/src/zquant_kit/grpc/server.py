"""grpc.aio server bootstrap: health (overall and per service), reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from zquant_kit.grpc.draining import StreamDrainInterceptor
from zquant_kit.grpc.handlers import ServerInterceptor
from zquant_kit.grpc.read_only import ReadOnlyCallInterceptor

log = logging.getLogger(__name__)

STREAM_END_MARGIN_SECONDS = 0.5
"""Open response streams end this long before the drain grace runs out, so their UNAVAILABLE gets through."""


def _join(host: str, port: int) -> str:
    bare = host.strip("[]")
    return f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}"


@dataclass(frozen=True)
class GrpcService:
    """One servicer and the generated `add_XxxServicer_to_server` that registers it."""

    full_name: str
    servicer: Any
    register: Callable[[Any, grpc.aio.Server], None]


class GrpcServer:
    def __init__(
        self,
        services: Sequence[GrpcService],
        *,
        interceptors: Sequence[ServerInterceptor] = (),
        reflection_enabled: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._services = list(services)
        self._streams = StreamDrainInterceptor()
        self._server = grpc.aio.server(
            interceptors=[
                self._streams,
                *interceptors,
                ReadOnlyCallInterceptor(),
            ],  # read scope innermost: after authentication
            options=[
                ("grpc.max_receive_message_length", 64 * 1024 * 1024),
                ("grpc.max_send_message_length", 64 * 1024 * 1024),
            ],
        )
        self._health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        for service in self._services:
            service.register(service.servicer, self._server)
        if reflection_enabled:
            names = [s.full_name for s in self._services]
            names += [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME]
            reflection.enable_server_reflection(names, self._server)
        self.host = host
        self.port = self._server.add_insecure_port(_join(host, port))
        if self.port == 0:
            raise OSError(f"cannot bind gRPC server to {_join(host, port)}")

    @property
    def bound_address(self) -> str:
        """What the server listens on, e.g. `127.0.0.1:50051` or `0.0.0.0:50051`."""
        return _join(self.host, self.port)

    @property
    def local_address(self) -> str:
        """Where a client on this machine reaches it: loopback when bound to every interface."""
        wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}
        return _join(wildcard.get(self.host, self.host), self.port)

    async def _set_all(self, status: int) -> None:
        await self._health.set("", status)
        for service in self._services:
            await self._health.set(service.full_name, status)

    async def listen(self) -> None:
        """Accepts calls, while health says NOT_SERVING until `serving()`: the service's start-up work
        (loading keys, seeding, subscribing) comes in between, so balancers and clients wait for it."""
        await self._server.start()
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)

    async def serving(self) -> None:
        await self._set_all(health_pb2.HealthCheckResponse.SERVING)

    async def start(self) -> None:
        """Listens and says SERVING at once (a server whose services need no start-up work)."""
        await self.listen()
        await self.serving()

    async def not_serving(self) -> None:
        """Health says NOT_SERVING (overall and per service) from now on; calls are still served."""
        await self._health.enter_graceful_shutdown()

    async def drain(self, grace_seconds: float) -> None:
        """Refuses new calls; in-flight calls get `grace_seconds`, and the response streams still open just
        before it runs out end with UNAVAILABLE and a retry hint (whatever remains is then cancelled)."""
        margin = min(STREAM_END_MARGIN_SECONDS, grace_seconds / 2)
        loop = asyncio.get_running_loop()
        ending = loop.call_later(max(0.0, grace_seconds - margin), self._streams.end_streams)
        try:
            await self._server.stop(grace_seconds)
        finally:
            ending.cancel()

    async def stop(self, grace_seconds: float = 5.0, readiness_grace_seconds: float = 0.0) -> None:
        """NOT_SERVING first, served on for `readiness_grace_seconds` (so balancers drain us), then drained."""
        await self.not_serving()
        await asyncio.sleep(readiness_grace_seconds)
        await self.drain(grace_seconds)

    async def wait(self) -> None:
        await self._server.wait_for_termination()
