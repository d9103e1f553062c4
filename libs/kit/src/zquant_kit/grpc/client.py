"""Client helpers: channels, bearer-token and API-key-signed calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from zquant_kit.auth import signed_metadata

Reply = TypeVar("Reply")


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def insecure_channel(
    address: str, interceptors: Iterable[grpc.aio.ClientInterceptor] = ()
) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address, interceptors=list(interceptors))


async def call_with_api_key(
    stub_method: Callable[..., Awaitable[Reply]],
    request: Message,
    *,
    key_id: str,
    secret: str,
    method: str,
    **kwargs: Any,
) -> Reply:
    """Signs `request` with the API key (HMAC over timestamp, nonce, method, body digest) and calls."""
    metadata = signed_metadata(key_id, secret, method, request.SerializeToString(deterministic=True))
    return await stub_method(request, metadata=metadata, **kwargs)
