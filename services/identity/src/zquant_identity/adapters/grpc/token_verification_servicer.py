"""TokenVerificationService: the shared `zquant.common.v1` contract every other service's kit calls.

Its messages have the same field numbers and types as AuthService's GetPublicKeys, AuthenticateApiKey and
ListTokenRevocations, so each RPC hands its request to the AuthService RPC of the same job and re-reads the
reply: one implementation, two contracts (AuthService's stay for existing clients).
"""

from __future__ import annotations

from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from zquant.common.v1 import token_verification_pb2 as pb
from zquant.common.v1 import token_verification_pb2_grpc as pb_grpc
from zquant.identity.v1 import auth_pb2
from zquant_identity.adapters.grpc.auth_servicer import AuthServicer

_SERVICE = "zquant.common.v1.TokenVerificationService"


_Context = grpc.aio.ServicerContext[Any, Any]
_Target = TypeVar("_Target", bound=Message)


def _same_wire(message: Message, target: type[_Target]) -> _Target:
    """The message re-read as its twin in the other contract (identical field numbers and types)."""
    return target.FromString(message.SerializeToString())


class TokenVerificationServicer(pb_grpc.TokenVerificationServiceServicer):
    SERVICE = _SERVICE
    PUBLIC = frozenset({f"/{_SERVICE}/GetVerificationKeys"})

    def __init__(self, auth: AuthServicer) -> None:
        self._auth = auth

    async def GetVerificationKeys(
        self, request: pb.GetVerificationKeysRequest, context: _Context
    ) -> pb.GetVerificationKeysResponse:
        reply = await self._auth.GetPublicKeys(_same_wire(request, auth_pb2.GetPublicKeysRequest), context)
        return _same_wire(reply, pb.GetVerificationKeysResponse)

    async def AuthenticateApiKey(
        self, request: pb.AuthenticateApiKeyRequest, context: _Context
    ) -> pb.AuthenticateApiKeyResponse:
        reply = await self._auth.AuthenticateApiKey(_same_wire(request, auth_pb2.AuthenticateApiKeyRequest), context)
        return _same_wire(reply, pb.AuthenticateApiKeyResponse)

    async def ListTokenRevocations(
        self, request: pb.ListTokenRevocationsRequest, context: _Context
    ) -> pb.ListTokenRevocationsResponse:
        reply = await self._auth.ListTokenRevocations(_same_wire(request, auth_pb2.ListTokenRevocationsRequest), context)
        return _same_wire(reply, pb.ListTokenRevocationsResponse)
