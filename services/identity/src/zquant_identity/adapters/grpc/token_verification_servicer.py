"""TokenVerificationService: the shared `zquant.common.v1` contract every other service's kit calls to verify its
callers (verification keys, the API-key check, the revocations in force). Identity is its only implementation."""

from __future__ import annotations

from dataclasses import fields

from zquant.common.v1 import token_verification_pb2 as pb
from zquant.common.v1 import token_verification_pb2_grpc as pb_grpc
from zquant_identity.adapters.grpc.messages import revocation_message
from zquant_identity.adapters.security import SigningKeyRing
from zquant_identity.application.auth import AuthUseCases
from zquant_identity.application.revocations import RevocationQueries
from zquant_kit import principal
from zquant_kit.auth import ApiKeyCredentials, public_jwk
from zquant_kit.grpc.handlers import Context

_SERVICE = "zquant.common.v1.TokenVerificationService"


class TokenVerificationServicer(pb_grpc.TokenVerificationServiceServicer):
    SERVICE = _SERVICE
    PUBLIC = frozenset({f"/{_SERVICE}/GetVerificationKeys"})

    def __init__(
        self,
        auth: AuthUseCases,
        revocations: RevocationQueries,
        ring: SigningKeyRing,
        issuer: str,
        audience: str,
    ) -> None:
        self._auth = auth
        self._revocations = revocations
        self._ring = ring
        self._issuer = issuer
        self._audience = audience

    async def GetVerificationKeys(
        self, request: pb.GetVerificationKeysRequest, context: Context
    ) -> pb.GetVerificationKeysResponse:
        # Callers ask when a token names a kid they don't know: a rotation made by another replica
        # shows up here within the ring's refresh interval rather than its reload period.
        keys = await self._ring.public_keys(refresh=True)
        return pb.GetVerificationKeysResponse(
            keys=[pb.VerificationKey(**public_jwk(kid, key)) for kid, key in keys.items()],
            issuer=self._issuer,
            audience=self._audience,
        )

    async def AuthenticateApiKey(
        self, request: pb.AuthenticateApiKeyRequest, context: Context
    ) -> pb.AuthenticateApiKeyResponse:
        principal.require_service()
        # The request's fields are the credentials' own, name for name.
        credentials = ApiKeyCredentials(
            **{field.name: getattr(request, field.name) for field in fields(ApiKeyCredentials)}
        )
        found = await self._auth.authenticate_api_key(credentials)
        return pb.AuthenticateApiKeyResponse(
            user_id=found.user_id,
            role=found.role,
            permissions=sorted(found.permissions),
            username=found.username,
        )

    async def ListTokenRevocations(
        self, request: pb.ListTokenRevocationsRequest, context: Context
    ) -> pb.ListTokenRevocationsResponse:
        principal.require_service()
        since = request.since_time.ToMicroseconds() if request.HasField("since_time") else None
        found = await self._revocations.revocations(since)
        return pb.ListTokenRevocationsResponse(revocations=[revocation_message(r) for r in found])
