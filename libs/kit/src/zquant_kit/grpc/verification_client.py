"""How services other than identity authenticate callers, over the shared `zquant.common.v1`
TokenVerificationService that identity implements: verification keys (public), API keys and token
revocations (service-only, called with the service credential).

Every call waits for the channel to be ready, within its deadline: a service started before identity has
seen a refused connection, and its channel backs off before reconnecting; without waiting, the first calls
after identity comes up would fail at once instead of reaching it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from zquant.common.v1 import token_verification_pb2 as pb
from zquant.common.v1 import token_verification_pb2_grpc as pb_grpc
from zquant_kit.auth import ApiKeyCredentials, public_key_from_jwk
from zquant_kit.errors import Unauthenticated, Unavailable
from zquant_kit.grpc.status import ErrorInfoReader
from zquant_kit.principal import Principal
from zquant_kit.revocation import Revocation
from zquant_kit.service_credential import service_metadata

RECONNECT_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 1000)]
"""Channel options: identity restarted or started late is reached again within a second."""


class GrpcPublicKeySource:
    """Fetches identity's verification keys once, and again when a token names an unknown key id."""

    def __init__(self, channel: grpc.aio.Channel, min_refresh_seconds: float = 5.0) -> None:
        self._stub = pb_grpc.TokenVerificationServiceStub(channel)
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fetched_at = 0.0
        self._min_refresh = min_refresh_seconds
        self._lock = asyncio.Lock()

    async def public_keys(self, refresh: bool = False) -> dict[str, Ed25519PublicKey]:
        async with self._lock:
            stale = not self._keys or (refresh and time.monotonic() - self._fetched_at > self._min_refresh)
            if stale:
                try:
                    reply = await self._stub.GetVerificationKeys(
                        pb.GetVerificationKeysRequest(), timeout=5, wait_for_ready=True
                    )
                except grpc.aio.AioRpcError as exc:
                    raise Unavailable(
                        f"identity service unreachable for key fetch: {exc.code().name}"
                    ) from None
                self._keys = {
                    k.kid: public_key_from_jwk({"kty": k.kty, "crv": k.crv, "x": k.x}) for k in reply.keys
                }
                self._fetched_at = time.monotonic()
            return dict(self._keys)


class GrpcApiKeyAuthenticator:
    """Nonces must be global across services, so identity checks every API-key signature."""

    def __init__(self, channel: grpc.aio.Channel, service_secret: str) -> None:
        self._stub = pb_grpc.TokenVerificationServiceStub(channel)
        self._metadata = service_metadata(service_secret)

    async def authenticate(self, credentials: ApiKeyCredentials) -> Principal:
        try:
            reply = await self._stub.AuthenticateApiKey(
                # The request's fields are the credentials' own, name for name.
                pb.AuthenticateApiKeyRequest(**asdict(credentials)),
                metadata=self._metadata,
                timeout=5,
                wait_for_ready=True,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                raise Unauthenticated(
                    exc.details() or "API key rejected", reason=ErrorInfoReader.reason(exc)
                ) from None
            raise Unavailable(f"identity service unreachable for API-key check: {exc.code().name}") from None
        return Principal(
            user_id=reply.user_id,
            username=reply.username,
            role=reply.role,
            permissions=frozenset(reply.permissions),
            auth_method="api_key",
        )


class GrpcRevocationSource:
    """Reads identity's revocations in force (`since_us` None: all of them) for the kit's revocation map."""

    def __init__(self, channel: grpc.aio.Channel, service_secret: str, timeout_seconds: float = 2.0) -> None:
        self._stub = pb_grpc.TokenVerificationServiceStub(channel)
        self._metadata = service_metadata(service_secret)
        self._timeout = timeout_seconds

    async def revocations(self, since_us: int | None) -> Sequence[Revocation]:
        request = pb.ListTokenRevocationsRequest()
        if since_us is not None:
            request.since_time.FromMicroseconds(max(since_us, 0))
        try:
            reply = await self._stub.ListTokenRevocations(
                request, metadata=self._metadata, timeout=self._timeout, wait_for_ready=True
            )
        except grpc.aio.AioRpcError as exc:
            raise Unavailable(
                f"identity service unreachable for token revocations: {exc.code().name}"
            ) from None
        return [Revocation(r.user_id, r.role, r.not_before_time.ToMicroseconds()) for r in reply.revocations]
