"""Type names for the kit's server interceptors: grpc-stubs' generic types, fixed to any message.

grpc's classes are not generic at run time, so the subscripted names exist for the type checker only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
    Context = grpc.aio.ServicerContext[Any, Any]
    ServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
else:
    Handler = grpc.RpcMethodHandler
    Context = grpc.aio.ServicerContext
    ServerInterceptor = grpc.aio.ServerInterceptor

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[Handler]]
"""What a server interceptor calls to get the next handler."""
Behavior = Callable[..., Any]
"""A handler's behaviour: `(request, context)` to a response, an async iterator of them, or None."""

__all__ = ["Behavior", "Context", "Continuation", "Handler", "ServerInterceptor"]
