"""The one way every service wires its auth/audit interceptor.

`CallerChecks` says where callers are verified: identity fills it from its own key ring, revocation table and
API-key use case; every other service from identity's TokenVerificationService (`remote_caller_checks`). Then
`auth_interceptor` builds the interceptor the same way for all of them, audits into the service's outbox and
keeps the revocation map current from the bus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import grpc

from zquant_kit import telemetry
from zquant_kit.audit import OutboxAuditSink
from zquant_kit.auth import ApiKeyAuthenticator, PublicKeySource, TokenVerifier
from zquant_kit.grpc.interceptor import AuthInterceptor
from zquant_kit.grpc.verification_client import (
    RECONNECT_OPTIONS,
    GrpcApiKeyAuthenticator,
    GrpcPublicKeySource,
    GrpcRevocationSource,
)
from zquant_kit.infrastructure import Infrastructure
from zquant_kit.revocation import TOKEN_REVOKED, RevocationSync


def revocation_consumer(service: str) -> str:
    """Each service's own durable consumer of `identity.token.revoked.v1`."""
    return f"{service}-token-revocations"


@dataclass(frozen=True)
class CallerChecks:
    """What the interceptor verifies callers with: token keys, the revocations in force, API keys."""

    keys: PublicKeySource
    revocations: RevocationSync
    api_keys: ApiKeyAuthenticator


def service_channel(infra: Infrastructure, address: str) -> grpc.aio.Channel:
    """A channel to another service, traced and quick to reconnect, closed when the service stops; stop hooks run
    in reverse, so whatever is wired after it (and uses it) has stopped by then."""
    channel = grpc.aio.insecure_channel(
        address, options=RECONNECT_OPTIONS, interceptors=telemetry.client_interceptors(infra.config.tracing)
    )

    async def close() -> None:
        await channel.close(None)

    infra.on_stop(close)
    return channel


def remote_caller_checks(infra: Infrastructure) -> CallerChecks:
    """Checks over identity's TokenVerificationService; the channel closes after the revocation sync stops."""
    config = infra.config
    channel = service_channel(infra, config.identity_address)
    return CallerChecks(
        keys=GrpcPublicKeySource(channel),
        revocations=RevocationSync(GrpcRevocationSource(channel, config.service_secret)),
        api_keys=GrpcApiKeyAuthenticator(channel, config.service_secret),
    )


def auth_interceptor(
    infra: Infrastructure,
    checks: CallerChecks,
    *,
    public_methods: Iterable[str] = (),
    audit_target_fields: Sequence[str] = (),
) -> AuthInterceptor:
    """At start the service subscribes to token revocations and starts the periodic resync; it stops it first."""
    config = infra.config
    revocations = checks.revocations
    infra.subscribe(revocation_consumer(config.name), TOKEN_REVOKED, revocations.on_event)

    async def start_resync() -> None:
        revocations.start()

    infra.on_start(start_resync)
    infra.on_stop(revocations.stop)
    return AuthInterceptor(
        config.name,
        TokenVerifier(
            checks.keys, revocations=revocations, issuer=config.jwt_issuer, audience=config.jwt_audience
        ),
        checks.api_keys,
        OutboxAuditSink(infra.sessions, infra.outbox, infra.relay.wake),
        public_methods=public_methods,
        service_secret=config.service_secret,
        audit_target_fields=audit_target_fields,
    )
