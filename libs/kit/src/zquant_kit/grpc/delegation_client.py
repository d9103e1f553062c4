"""`OwnerTokens` over identity's OwnerTokenService: a service (the scheduler) obtains a user's short-lived token.

Tokens are cached per (owner, scopes) until `refresh_margin` before they expire, so a job firing every second
asks identity about once per token lifetime. A cached token stays good for a lost right too: the target refuses
it as soon as identity revokes the role's or the user's tokens (the kit's revocation map), and the next ask here
then fails with the reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import grpc

from zquant.common.v1 import owner_token_pb2 as pb
from zquant.common.v1 import owner_token_pb2_grpc as pb_grpc
from zquant_kit.delegation import OwnerTokens
from zquant_kit.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
    ZqError,
)
from zquant_kit.grpc.status import ErrorInfoReader
from zquant_kit.service_credential import service_metadata


def _relayed(error: grpc.aio.AioRpcError, owner_id: str, scopes: Sequence[str]) -> ZqError:
    """identity's refusal as the same kind of error here, so the caller records the reason, not a transport code."""
    message = error.details() or error.code().name
    reason = ErrorInfoReader.reason(error, error.code().name)
    code = error.code()
    if code == grpc.StatusCode.PERMISSION_DENIED:
        permission = next((scope for scope in scopes if repr(scope) in message), "")
        return PermissionDenied(message, permission=permission, reason=reason)
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound("user", owner_id)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return FailedPrecondition(message, reason=reason)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgument("scopes", message)
    return Unavailable(f"identity could not issue the owner's token: {code.name}")


class IdentityOwnerTokens(OwnerTokens):
    def __init__(
        self,
        channel: grpc.aio.Channel,
        service_secret: str,
        acting_service: str,
        *,
        ttl_seconds: int = 600,
        refresh_margin_seconds: float = 60.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._stub = pb_grpc.OwnerTokenServiceStub(channel)
        self._metadata = service_metadata(service_secret)
        self._acting_service = acting_service
        self._ttl = ttl_seconds
        self._margin = refresh_margin_seconds
        self._timeout = timeout_seconds
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[str, float]] = {}
        self._locks: dict[tuple[str, tuple[str, ...]], asyncio.Lock] = {}

    async def token_for(self, owner_id: str, scopes: tuple[str, ...]) -> str:
        key = (owner_id, tuple(sorted(set(scopes))))
        cached = self._cache.get(key)
        if cached is not None and cached[1] - self._margin > time.time():
            return cached[0]
        async with self._locks.setdefault(
            key, asyncio.Lock()
        ):  # concurrent runs of one owner share one issue
            cached = self._cache.get(key)
            if cached is not None and cached[1] - self._margin > time.time():
                return cached[0]
            self._cache.pop(key, None)
            request = pb.IssueOwnerTokenRequest(
                user_id=owner_id,
                scopes=list(key[1]),
                acting_service=self._acting_service,
                ttl_seconds=self._ttl,
            )
            try:
                reply = await self._stub.IssueOwnerToken(
                    request, metadata=self._metadata, timeout=self._timeout, wait_for_ready=True
                )
            except grpc.aio.AioRpcError as exc:
                raise _relayed(exc, owner_id, key[1]) from None
            self._cache[key] = (reply.access_token, reply.expire_time.ToMicroseconds() / 1e6)
            self._prune()
            return reply.access_token

    def forget(self, owner_id: str) -> None:
        """Drops the owner's cached tokens (a target refused one as revoked: the next ask re-checks the rights)."""
        for key in [k for k in self._cache if k[0] == owner_id]:
            del self._cache[key]

    def _prune(self) -> None:
        now = time.time()
        for key in [k for k, (_, expires) in self._cache.items() if expires - self._margin <= now]:
            del self._cache[key]
        for key in [k for k, lock in self._locks.items() if k not in self._cache and not lock.locked()]:
            del self._locks[key]
