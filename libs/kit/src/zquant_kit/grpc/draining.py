"""Ends response streams cleanly when a server drains: UNAVAILABLE with a retry hint, not a bare CANCELLED.

A server-streaming call can outlive any grace period (a sync progress stream follows a run for hours), so
when the server must stop, the streams still open are ended with UNAVAILABLE and google.rpc.RetryInfo: the
client reconnects elsewhere (or to the restarted process) after `retry_after` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
from collections.abc import AsyncIterator
from typing import Any

import grpc

from zquant_kit.errors import Unavailable
from zquant_kit.grpc.handlers import Behavior, Context, Continuation, Handler, ServerInterceptor
from zquant_kit.grpc.status import to_grpc_status

DOMAIN = "zquant.kit"


class StreamDrainInterceptor(ServerInterceptor):
    def __init__(self, retry_after: float = 1.0) -> None:
        self._retry_after = retry_after
        self._ending = asyncio.Event()

    def end_streams(self) -> None:
        """Every open response stream (and any started from now on) ends with UNAVAILABLE."""
        self._ending.set()

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler:
        handler = await continuation(handler_call_details)
        if handler is None or not handler.response_streaming:
            return handler
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._guard(handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        behavior: Behavior | None = handler.stream_stream
        assert behavior is not None  # a response-streaming handler is unary-stream or stream-stream
        return grpc.stream_stream_rpc_method_handler(
            self._guard(behavior),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _guard(self, behavior: Behavior) -> Behavior:
        return (
            self._guard_generator(behavior)
            if inspect.isasyncgenfunction(behavior)
            else self._guard_writer(behavior)
        )

    async def _unavailable(self, context: Context) -> None:
        status = to_grpc_status(
            Unavailable(
                "the server is shutting down; retry", reason="SHUTTING_DOWN", retry_after=self._retry_after
            ),
            DOMAIN,
        )
        await context.abort(status.code, status.details, status.trailing_metadata)

    def _guard_writer(self, behavior: Behavior) -> Behavior:
        """A handler that streams with `context.write` (grpc.health's Watch) and returns when done."""

        async def guarded(request: Any, context: Context) -> Any:
            loop = asyncio.get_running_loop()
            work = loop.create_task(behavior(request, context))
            ending = loop.create_task(self._ending.wait())
            try:
                await asyncio.wait({work, ending}, return_when=asyncio.FIRST_COMPLETED)
                if work.done():
                    return work.result()
            finally:
                ending.cancel()
                if not work.done():
                    work.cancel()
                    with contextlib.suppress(BaseException):
                        await work
            await self._unavailable(context)

        return guarded

    def _guard_generator(self, behavior: Behavior) -> Behavior:
        async def guarded(request: Any, context: Context) -> AsyncIterator[Any]:
            responses = behavior(request, context).__aiter__()
            loop = asyncio.get_running_loop()
            ending = loop.create_task(self._ending.wait())
            steps = contextvars.copy_context()  # every step in one context, as if iterated in place
            following: asyncio.Future[Any] | None = None
            try:
                while True:
                    following = loop.create_task(responses.__anext__(), context=steps)
                    await asyncio.wait({following, ending}, return_when=asyncio.FIRST_COMPLETED)
                    if not following.done():
                        break
                    try:
                        response = following.result()
                    except StopAsyncIteration:
                        return
                    yield response
            finally:
                # The handler must be finished before the call is: grpc frees the context right after.
                ending.cancel()
                if following is not None and not following.done():
                    following.cancel()
                    with contextlib.suppress(BaseException):
                        await following
                with contextlib.suppress(BaseException):
                    await responses.aclose()
            await self._unavailable(context)

        return guarded
