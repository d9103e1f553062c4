"""RPCs declared `option idempotency_level = NO_SIDE_EFFECTS;` in the contract run as reads.

The handler runs inside `read_only_scope()`, so every transaction it begins is a read: on SQLite
it begins deferred and never takes (or waits for) the write lock. Installed innermost by
`GrpcServer`, after authentication, which may itself write (an API key's nonce).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool

from zquant_kit.grpc.handlers import Behavior, Context, Continuation, Handler, ServerInterceptor
from zquant_kit.persistence.engine import read_only_scope


@functools.lru_cache(maxsize=1024)
def has_no_side_effects(method: str) -> bool:
    """`/pkg.Service/Method` → whether its contract declares NO_SIDE_EFFECTS."""
    try:
        found = descriptor_pool.Default().FindMethodByName(method.lstrip("/").replace("/", "."))
    except KeyError:
        return False
    return found.GetOptions().idempotency_level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS


class ReadOnlyCallInterceptor(ServerInterceptor):
    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler:
        handler = await continuation(handler_call_details)
        if handler is None or not has_no_side_effects(handler_call_details.method):
            return handler
        if handler.unary_unary is not None:
            behavior: Behavior = handler.unary_unary

            async def unary(request: Any, context: Context) -> Any:
                with read_only_scope():
                    return await behavior(request, context)

            return grpc.unary_unary_rpc_method_handler(
                unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            stream_behavior: Behavior = handler.unary_stream

            async def stream(request: Any, context: Context) -> AsyncIterator[Any]:
                with read_only_scope():
                    async for item in stream_behavior(request, context):
                        yield item

            return grpc.unary_stream_rpc_method_handler(
                stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler
