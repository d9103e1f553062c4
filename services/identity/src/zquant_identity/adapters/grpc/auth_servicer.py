"""AuthService: login, refresh, logout, public keys, revocations and the API-key check for other services."""

from __future__ import annotations

from zquant.identity.v1 import auth_pb2, auth_pb2_grpc
from zquant_identity.adapters.grpc.messages import pair_message, revocation_message
from zquant_identity.adapters.grpc.peer import client_address
from zquant_identity.adapters.security import SigningKeyRing
from zquant_identity.application.auth import AuthUseCases
from zquant_identity.application.revocations import RevocationQueries
from zquant_kit import principal
from zquant_kit.auth import ApiKeyCredentials, public_jwk
from zquant_kit.errors import PermissionDenied


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    PUBLIC = frozenset(
        f"/zquant.identity.v1.AuthService/{m}"
        for m in ("Login", "Refresh", "Logout", "GetPublicKeys")
    )

    def __init__(
        self, auth: AuthUseCases, revocations: RevocationQueries, ring: SigningKeyRing, issuer: str, audience: str
    ) -> None:
        self._auth = auth
        self._revocations = revocations
        self._ring = ring
        self._issuer = issuer
        self._audience = audience

    async def Login(self, request, context):
        tokens = await self._auth.login(request.username, request.password, client_address(context.peer() or ""))
        return auth_pb2.LoginResponse(tokens=pair_message(tokens))

    async def Refresh(self, request, context):
        return auth_pb2.RefreshResponse(tokens=pair_message(await self._auth.refresh(request.refresh_token)))

    async def Logout(self, request, context):
        await self._auth.logout(request.refresh_token)
        return auth_pb2.LogoutResponse()

    async def GetPublicKeys(self, request, context):
        # Callers ask when a token names a kid they don't know: a rotation made by another replica
        # shows up here within the ring's refresh interval rather than its reload period.
        keys = await self._ring.public_keys(refresh=True)
        return auth_pb2.GetPublicKeysResponse(
            keys=[auth_pb2.PublicKey(**public_jwk(kid, key)) for kid, key in keys.items()],
            issuer=self._issuer,
            audience=self._audience,
        )

    async def LogoutAll(self, request, context):
        actor = principal.current()
        if actor.is_service:
            raise PermissionDenied("a service has no sessions to end", permission="service")
        await self._auth.logout_all(actor)
        return auth_pb2.LogoutAllResponse()

    async def ListTokenRevocations(self, request, context):
        principal.require_service()
        since = request.since_time.ToMicroseconds() if request.HasField("since_time") else None
        found = await self._revocations.revocations(since)
        return auth_pb2.ListTokenRevocationsResponse(revocations=[revocation_message(r) for r in found])

    async def AuthenticateApiKey(self, request, context):
        principal.require_service()
        found = await self._auth.authenticate_api_key(
            ApiKeyCredentials(
                key_id=request.key_id,
                timestamp=request.timestamp,
                nonce=request.nonce,
                method=request.method,
                body_sha256=request.body_sha256,
                signature=request.signature,
            )
        )
        return auth_pb2.AuthenticateApiKeyResponse(
            user_id=found.user_id, role=found.role, permissions=sorted(found.permissions), username=found.username
        )
