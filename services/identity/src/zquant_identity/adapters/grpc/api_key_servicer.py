"""ApiKeyService: a user's API keys."""

from __future__ import annotations

from zquant.identity.v1 import api_key_pb2, api_key_pb2_grpc
from zquant_identity.adapters.grpc.messages import api_key_message
from zquant_identity.adapters.grpc.page_keys import API_KEYS
from zquant_identity.application.api_keys import ApiKeyUseCases
from zquant_kit import pagination, principal
from zquant_kit.grpc.convert import from_timestamp


class ApiKeyServicer(api_key_pb2_grpc.ApiKeyServiceServicer):
    def __init__(self, keys: ApiKeyUseCases) -> None:
        self._keys = keys

    async def CreateApiKey(self, request, context):
        actor = principal.require("apikey:create")
        expires = from_timestamp(request.expire_time, "expire_time") if request.HasField("expire_time") else None
        key, secret = await self._keys.create(actor, request.name, expires)
        return api_key_pb2.CreateApiKeyResponse(api_key=api_key_message(key), secret=secret)

    async def ListApiKeys(self, request, context):
        actor = principal.require("apikey:read")
        limit = pagination.page_size(request.page_size)
        page = await self._keys.list(actor, API_KEYS.after(request.page_token), limit)
        keys = [api_key_message(k) for k in page.items]
        return api_key_pb2.ListApiKeysResponse(api_keys=keys, next_page_token=API_KEYS.next_token(page))

    async def RevokeApiKey(self, request, context):
        actor = principal.require("apikey:revoke")
        await self._keys.revoke(actor, request.api_key_id)
        return api_key_pb2.RevokeApiKeyResponse()
