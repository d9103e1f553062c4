"""The auth/audit interceptor every non-identity service uses, wired the same way in each bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import grpc
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zquant_kit import telemetry
from zquant_kit.audit import OutboxAuditSink
from zquant_kit.auth import TokenVerifier
from zquant_kit.events.model import EventSubscriber
from zquant_kit.grpc.identity_client import GrpcApiKeyAuthenticator, GrpcPublicKeySource, GrpcRevocationSource
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.revocation import TOKEN_REVOKED, RevocationSync
from zquant_kit.service_credential import load_service_secret
from zquant_kit.settings import Settings


def revocation_consumer(service: str) -> str:
    """Each service's own durable consumer of `identity.token.revoked.v1`."""
    return f"{service}-token-revocations"


@dataclass
class IdentityBackedAuth:
    """The interceptor, the identity channel it calls and the revocation sync: start and stop with the app."""

    interceptor: AuthInterceptor
    channel: grpc.aio.Channel
    revocations: RevocationSync
    service: str

    async def start(self, bus: EventSubscriber) -> None:
        await bus.subscribe(revocation_consumer(self.service), TOKEN_REVOKED, self.revocations.on_event)
        self.revocations.start()

    async def stop(self) -> None:
        await self.revocations.stop()
        await self.channel.close()


def identity_backed_auth(
    service: str,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Table,
    wake: Callable[[], None],
    public_methods: Iterable[str] = (),
    audit_target_fields: Sequence[str] = (),
) -> IdentityBackedAuth:
    tracing = settings.otel_exporter != "none"
    channel = grpc.aio.insecure_channel(
        settings.address("identity"), interceptors=telemetry.client_interceptors(tracing)
    )
    secret = load_service_secret(settings)
    revocations = RevocationSync(GrpcRevocationSource(channel, secret))
    interceptor = AuthInterceptor(
        service,
        TokenVerifier(
            GrpcPublicKeySource(channel),
            revocations=revocations,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        ),
        GrpcApiKeyAuthenticator(channel, secret),
        OutboxAuditSink(sessions, outbox, wake),
        public_methods=public_methods,
        service_secret=secret,
        audit_target_fields=audit_target_fields,
    )
    return IdentityBackedAuth(interceptor, channel, revocations, service)
