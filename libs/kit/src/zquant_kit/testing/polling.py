"""Waiting with a deadline: for a condition, for a call to be refused, or for a server process to answer health
checks."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

T = TypeVar("T")


async def eventually(
    fetch: Callable[[], Awaitable[T]],
    check: Callable[[T], bool] = bool,
    timeout: float = 3.0,
    interval: float = 0.05,
) -> T:
    """Polls `fetch()` every `interval` s until `check(result)` or `timeout` s pass; returns the last result."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await fetch()
        if check(result) or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(interval)


async def refused_within(
    call: Callable[[], Awaitable[object]], seconds: float, still_works: str, interval: float = 0.05
) -> grpc.aio.AioRpcError:
    """Repeats `call()` every `interval` s until it fails and returns that error; fails with `still_works` if it
    keeps succeeding for `seconds` (a revocation takes a moment to reach every cache)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            await call()
        except grpc.aio.AioRpcError as error:
            return error
        assert asyncio.get_running_loop().time() < deadline, still_works
        await asyncio.sleep(interval)


# A client channel backs off exponentially (1 s, 1.6 s, 2.6 s, ... up to 120 s) after each refused connect, and
# fails calls at once while it waits: a server that takes 20 s to start would not be seen for a further ~10-20 s.
_QUICK_RECONNECT = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 500)]


async def wait_serving(address: str, process: subprocess.Popen[str], timeout: float = 90.0) -> None:
    """Polls `address`'s health until SERVING or `timeout` s of wall clock pass (a loaded machine starts
    processes slowly); fails with the process output if it exits or never serves."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with grpc.aio.insecure_channel(address, options=_QUICK_RECONNECT) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while loop.time() < deadline:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout is not None else ""
                raise AssertionError(f"service exited: {output}")
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=2.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    process.terminate()
    output = process.communicate(timeout=20)[0][-4000:]
    raise AssertionError(f"{address} never became SERVING within {timeout:.0f} s: {output}")
