"""ApiKeyService: a user's API keys."""

from __future__ import annotations

from functools import partial

from zquant.identity.v1 import api_key_pb2, api_key_pb2_grpc
from zquant_identity.adapters.grpc.messages import api_key_message
from zquant_identity.adapters.grpc.page_keys import API_KEYS
from zquant_identity.application.api_keys import ApiKeyUseCases
from zquant_kit import principal
from zquant_kit.grpc.convert import optional_timestamp


class ApiKeyServicer(api_key_pb2_grpc.ApiKeyServiceServicer):
    def __init__(self, keys: ApiKeyUseCases) -> None:
        self._keys = keys

    async def CreateApiKey(self, request, context):
        actor = principal.require("apikey:create")
        key, secret = await self._keys.create(actor, request.name, optional_timestamp(request, "expire_time"))
        return api_key_pb2.CreateApiKeyResponse(api_key=api_key_message(key), secret=secret)

    async def ListApiKeys(self, request, context):
        actor = principal.require("apikey:read")
        keys, token = await API_KEYS.page(request, partial(self._keys.list, actor))
        return api_key_pb2.ListApiKeysResponse(
            api_keys=[api_key_message(k) for k in keys], next_page_token=token
        )

    async def RevokeApiKey(self, request, context):
        actor = principal.require("apikey:revoke")
        await self._keys.revoke(actor, request.api_key_id)
        return api_key_pb2.RevokeApiKeyResponse()
