"""The auth/audit interceptor every non-identity service uses, wired the same way in each bootstrap."""

from __future__ import annotations

from typing import Callable, Iterable

import grpc
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zquant_kit import telemetry
from zquant_kit.audit import OutboxAuditSink
from zquant_kit.auth import TokenVerifier
from zquant_kit.grpc.identity_client import GrpcApiKeyAuthenticator, GrpcPublicKeySource
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.settings import Settings


def identity_backed_interceptor(
    service: str,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Table,
    wake: Callable[[], None],
    public_methods: Iterable[str] = (),
) -> tuple[AuthInterceptor, grpc.aio.Channel]:
    """Returns the interceptor and the identity channel it uses (close it on shutdown)."""
    tracing = settings.otel_exporter != "none"
    channel = grpc.aio.insecure_channel(
        settings.address("identity"), interceptors=telemetry.client_interceptors(tracing)
    )
    interceptor = AuthInterceptor(
        service,
        TokenVerifier(GrpcPublicKeySource(channel), issuer=settings.jwt_issuer, audience=settings.jwt_audience),
        GrpcApiKeyAuthenticator(channel),
        OutboxAuditSink(sessions, outbox, wake),
        public_methods=public_methods,
    )
    return interceptor, channel
