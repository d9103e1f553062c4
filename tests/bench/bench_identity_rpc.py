"""Authenticated GetMe latency/throughput vs a bare grpc.aio echo server, and login throughput.

Target (issue 2): GetMe p50 ≤ 2× the echo p50, both measured here in the same run over loopback.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time

import grpc

from zquant.identity.v1 import auth_pb2, auth_pb2_grpc, user_pb2, user_pb2_grpc
from zquant_identity.bootstrap import SERVICE
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.grpc.client import bearer
from zquant_kit.runner import start_stack, upgrade_all
from zquant_kit.settings import Settings

SEQUENTIAL = 2000
CONCURRENT = 4000
CONCURRENCY = 32
LOGINS = 40
PASSWORD = "Bench-Passw0rd!"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.99) - 1] * 1e3


async def _measure(call) -> tuple[float, float, float]:
    for _ in range(200):
        await call()
    samples = []
    for _ in range(SEQUENTIAL):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    p50, p99 = _percentiles(samples)
    remaining = CONCURRENT

    async def worker():
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return p50, p99, CONCURRENT / (time.perf_counter() - started)


async def _echo_server() -> tuple[grpc.aio.Server, int]:
    async def echo(request: bytes, context) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def main() -> None:
    server, port = await _echo_server()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        echo = channel.unary_unary("/bench.Echo/Echo")
        payload = user_pb2.GetMeRequest().SerializeToString()
        echo_p50, echo_p99, echo_rps = await _measure(lambda: echo(payload))
    await server.stop(0)

    settings = Settings(
        {"ZQUANT_DATA_DIR": tempfile.mkdtemp(prefix="zq-bench-"), "ZQUANT_ADMIN_PASSWORD": PASSWORD}
    )
    await upgrade_all([SERVICE], settings)
    stack = await start_stack([SERVICE], settings, bus=InProcessEventBus(), ephemeral_ports=True)
    try:
        async with grpc.aio.insecure_channel(stack.address("identity")) as channel:
            auth = auth_pb2_grpc.AuthServiceStub(channel)
            users = user_pb2_grpc.UserServiceStub(channel)
            login = auth_pb2.LoginRequest(username="admin", password=PASSWORD)
            metadata = bearer((await auth.Login(login)).tokens.access_token)
            request = user_pb2.GetMeRequest()
            me_p50, me_p99, me_rps = await _measure(lambda: users.GetMe(request, metadata=metadata))

            started = time.perf_counter()
            await asyncio.gather(*(auth.Login(login) for _ in range(LOGINS)))
            login_rps = LOGINS / (time.perf_counter() - started)
    finally:
        await stack.stop(0)

    print(f"echo (bare grpc.aio)     p50 {echo_p50:.3f} ms  p99 {echo_p99:.3f} ms  {echo_rps:,.0f} req/s")
    print(f"GetMe (JWT + SQLite)     p50 {me_p50:.3f} ms  p99 {me_p99:.3f} ms  {me_rps:,.0f} req/s")
    ratio = me_p50 / echo_p50
    verdict = "meets" if ratio <= 2 else "misses"
    print(f"GetMe/echo p50 ratio     {ratio:.2f}x  ({verdict} the ≤ 2x target)")
    print(f"Login (argon2id m=19MiB t=2 p=1)  {login_rps:,.1f} logins/s over {LOGINS} concurrent logins")


if __name__ == "__main__":
    asyncio.run(main())
