"""OwnerTokenService: the shared `zquant.common.v1` contract a service calls to act for a user (the kit's
`IdentityOwnerTokens`). Service-only; identity is its only implementation."""

from __future__ import annotations

import datetime as dt

from zquant.common.v1 import owner_token_pb2 as pb
from zquant.common.v1 import owner_token_pb2_grpc as pb_grpc
from zquant_identity.adapters.grpc.peer import client_address
from zquant_identity.application.owner_tokens import OwnerTokenUseCases
from zquant_kit import principal
from zquant_kit.grpc.convert import to_timestamp
from zquant_kit.grpc.handlers import Context


class OwnerTokenServicer(pb_grpc.OwnerTokenServiceServicer):
    SERVICE = "zquant.common.v1.OwnerTokenService"

    def __init__(self, owner_tokens: OwnerTokenUseCases) -> None:
        self._owner_tokens = owner_tokens

    async def IssueOwnerToken(
        self, request: pb.IssueOwnerTokenRequest, context: Context
    ) -> pb.IssueOwnerTokenResponse:
        actor = principal.require_service()
        token = await self._owner_tokens.issue(
            actor,
            request.user_id,
            list(request.scopes),
            request.acting_service,
            dt.timedelta(seconds=request.ttl_seconds) if request.ttl_seconds else None,
            client_address(context.peer() or ""),
        )
        return pb.IssueOwnerTokenResponse(
            access_token=token.access_token,
            expire_time=to_timestamp(token.expires_at),
            scopes=list(token.scopes),
        )
