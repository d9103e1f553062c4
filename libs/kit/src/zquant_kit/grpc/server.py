"""grpc.aio server bootstrap: health (overall and per service), reflection, graceful shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from zquant_kit.grpc.read_only import ReadOnlyCallInterceptor

log = logging.getLogger(__name__)


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
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        reflection_enabled: bool = True,
        host: str = "0.0.0.0",
        port: int = 0,
    ) -> None:
        self._services = list(services)
        self._server = grpc.aio.server(
            interceptors=[*interceptors, ReadOnlyCallInterceptor()],  # innermost: after authentication
            options=[("grpc.max_receive_message_length", 64 * 1024 * 1024),
                     ("grpc.max_send_message_length", 64 * 1024 * 1024)],
        )
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        for service in self._services:
            service.register(service.servicer, self._server)
        if reflection_enabled:
            names = [s.full_name for s in self._services]
            names += [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME]
            reflection.enable_server_reflection(names, self._server)
        self.port = self._server.add_insecure_port(f"{host}:{port}")
        if self.port == 0:
            raise OSError(f"cannot bind gRPC server to {host}:{port}")

    async def _set_all(self, status) -> None:
        await self._health.set("", status)
        for service in self._services:
            await self._health.set(service.full_name, status)

    async def start(self) -> None:
        await self._server.start()
        await self._set_all(health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Health says NOT_SERVING first (so balancers drain us), then in-flight RPCs get `grace` to finish."""
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self._server.stop(grace_seconds)

    async def wait(self) -> None:
        await self._server.wait_for_termination()
