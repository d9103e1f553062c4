"""Waiting with a deadline: for a condition, or for a server process to answer health checks."""

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


async def wait_serving(address: str, process: subprocess.Popen[str], attempts: int = 200) -> None:
    """Polls `address`'s health every 0.1 s until SERVING; fails with the process output if it exits or never serves."""
    async with grpc.aio.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(attempts):
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout is not None else ""
                raise AssertionError(f"service exited: {output}")
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    process.terminate()
    raise AssertionError(f"{address} never became SERVING: {process.communicate(timeout=20)[0][-4000:]}")
