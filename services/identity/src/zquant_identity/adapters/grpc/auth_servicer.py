"""AuthService: login, refresh, logout and logout-all (the verification calls are TokenVerificationService's)."""

from __future__ import annotations

from zquant.identity.v1 import auth_pb2, auth_pb2_grpc
from zquant_identity.adapters.grpc.messages import pair_message
from zquant_identity.adapters.grpc.peer import client_address
from zquant_identity.application.auth import AuthUseCases
from zquant_kit import principal
from zquant_kit.errors import PermissionDenied


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    PUBLIC = frozenset(f"/zquant.identity.v1.AuthService/{m}" for m in ("Login", "Refresh", "Logout"))

    def __init__(self, auth: AuthUseCases) -> None:
        self._auth = auth

    async def Login(self, request, context):
        tokens = await self._auth.login(
            request.username, request.password, client_address(context.peer() or "")
        )
        return auth_pb2.LoginResponse(tokens=pair_message(tokens))

    async def Refresh(self, request, context):
        return auth_pb2.RefreshResponse(tokens=pair_message(await self._auth.refresh(request.refresh_token)))

    async def Logout(self, request, context):
        await self._auth.logout(request.refresh_token)
        return auth_pb2.LogoutResponse()

    async def LogoutAll(self, request, context):
        actor = principal.current()
        if (
            actor.is_service or actor.acting_service
        ):  # a token a service acts with is no session of the user's
            raise PermissionDenied("a service has no sessions to end", permission="service")
        await self._auth.logout_all(actor)
        return auth_pb2.LogoutAllResponse()
