"""GetMe latency while whole-market panels stream, and the server's peak memory, on the embedded
default (`zquant serve all`: SQLite, in-process bus) with the sample market.

Targets (issue 7): GetMe p99 ≤ 50 ms while 4 whole-market GetPanel streams run, next to GetMe idle
measured in the same run; the server's peak RSS well under 1 GB with 8 concurrent panel requests.
The server runs in its own process, the panel clients in another, so neither competes with the
GetMe client for a GIL; the panel clients run niced, as the load generator, so on this 2-core
machine their own decoding does not pose as server latency. Size: ZQUANT_SAMPLE_STOCKS (default
300) × ZQUANT_SAMPLE_YEARS (default 5).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

from zquant.identity.v1 import auth_pb2, auth_pb2_grpc, user_pb2, user_pb2_grpc
from zquant.marketdata.v1 import common_pb2, market_data_pb2, market_data_pb2_grpc, sync_pb2, sync_pb2_grpc
from zquant_kit.grpc.client import bearer

PASSWORD = "Bench-Passw0rd!"
SAMPLES = 400
START, END = "20200101", "20241231"
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 << 20)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.99) - 1] * 1e3


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(child) for child in children]
    return found + [grandchild for child in found for grandchild in _children(child)]


async def _login(address: str) -> list[tuple[str, str]]:
    async with grpc.aio.insecure_channel(address) as channel:
        tokens = (await auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(username="admin", password=PASSWORD))).tokens
    return bearer(tokens.access_token)


async def _panels_forever(address: str, metadata, count: int) -> None:
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        market = market_data_pb2_grpc.MarketDataServiceStub(channel)
        request = market_data_pb2.GetPanelRequest(start_date=START, end_date=END, adjust=common_pb2.ADJUST_QFQ)

        async def one_stream() -> None:
            while True:
                async for _ in market.GetPanel(request, metadata=metadata):
                    pass

        await asyncio.gather(*(one_stream() for _ in range(count)))


def _panel_client(address: str, metadata, count: int) -> None:
    os.nice(10)
    asyncio.run(_panels_forever(address, metadata, count))


async def _panels_once(address: str, metadata, count: int) -> float:
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        market = market_data_pb2_grpc.MarketDataServiceStub(channel)
        request = market_data_pb2.GetPanelRequest(start_date=START, end_date=END, adjust=common_pb2.ADJUST_QFQ)

        async def one() -> int:
            return sum([len(r.chunk.values) async for r in market.GetPanel(request, metadata=metadata)])

        started = time.perf_counter()
        sizes = await asyncio.gather(*(one() for _ in range(count)))
        assert len(set(sizes)) == 1 and sizes[0] > 0
        return time.perf_counter() - started


async def _get_me_latencies(address: str, metadata) -> list[float]:
    async with grpc.aio.insecure_channel(address) as channel:
        users = user_pb2_grpc.UserServiceStub(channel)
        for _ in range(50):
            await users.GetMe(user_pb2.GetMeRequest(), metadata=metadata)
        samples = []
        for _ in range(SAMPLES):
            started = time.perf_counter()
            await users.GetMe(user_pb2.GetMeRequest(), metadata=metadata)
            samples.append(time.perf_counter() - started)
            await asyncio.sleep(0.005)
        return samples


async def main() -> None:
    data_dir = tempfile.mkdtemp(prefix="zq-bench-concurrency-")
    identity, marketdata = f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZQUANT_") or k.startswith("ZQUANT_SAMPLE_")}
    env.update(
        ZQUANT_DATA_DIR=data_dir,
        ZQUANT_ADMIN_PASSWORD=PASSWORD,
        ZQUANT_MARKETDATA_SOURCE="sample",
        ZQUANT_IDENTITY_PORT=identity.rsplit(":", 1)[1],
        ZQUANT_MARKETDATA_PORT=marketdata.rsplit(":", 1)[1],
    )
    stocks, years = env.get("ZQUANT_SAMPLE_STOCKS", "300"), env.get("ZQUANT_SAMPLE_YEARS", "5")
    cli = [sys.executable, "-m", "zquant_kit.cli"]
    subprocess.run([*cli, "db", "upgrade", "all"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([*cli, "serve", "all"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        while "marketdata" not in (server.stdout.readline() or "marketdata"):
            pass
        metadata = await _login(identity)
        started = time.perf_counter()
        async with grpc.aio.insecure_channel(marketdata) as channel:
            async for _ in sync_pb2_grpc.SyncServiceStub(channel).StartSync(
                sync_pb2.StartSyncRequest(), metadata=metadata):
                pass
        synced = time.perf_counter() - started

        idle_p50, idle_p99 = _percentiles(await _get_me_latencies(identity, metadata))
        await _panels_once(marketdata, metadata, 2)  # the server's decoder processes start
        one_panel = await _panels_once(marketdata, metadata, 1)
        clients = multiprocessing.get_context("spawn").Process(
            target=_panel_client, args=(marketdata, metadata, 4), daemon=True)
        clients.start()
        await asyncio.sleep(3.0)  # the four streams are under way
        busy_p50, busy_p99 = _percentiles(await _get_me_latencies(identity, metadata))
        clients.terminate()
        clients.join()
        await asyncio.sleep(1.0)

        before = _kib(server.pid, "VmRSS")
        eight_panels = await _panels_once(marketdata, metadata, 8)
        peak = _kib(server.pid, "VmHWM")
        workers = [(pid, _kib(pid, "VmHWM")) for pid in _children(server.pid)]
    finally:
        server.terminate()
        server.wait(30)

    print(f"sample market            {stocks} stocks × {years} years on SQLite, full sync {synced:.1f} s")
    print(f"GetMe idle               p50 {idle_p50:.2f} ms  p99 {idle_p99:.2f} ms")
    verdict = "meets" if busy_p99 <= 50 else "misses"
    print(f"GetMe, 4 panels stream   p50 {busy_p50:.2f} ms  p99 {busy_p99:.2f} ms  ({verdict} the p99 ≤ 50 ms target; "
          f"idle p99 {idle_p99:.2f} ms)")
    print(f"whole-market GetPanel    1 alone {one_panel:.2f} s; 8 at once {eight_panels:.2f} s")
    verdict = "meets" if peak <= 600 * 1024 else "misses"
    print(f"server peak RSS          {peak / 1024:.0f} MB with 8 panels (RSS before them {before / 1024:.0f} MB, "
          f"after the sync; {verdict} the well-under-1-GB target, read as ≤ 600 MB)")
    worker_peaks = ", ".join(f"{kib / 1024:.0f}" for _, kib in workers) or "none"
    total = (peak + sum(kib for _, kib in workers)) / 1024
    print(f"worker processes peak    {worker_peaks} MB (SQLite decoders and their fork server); "
          f"server + workers {total:.0f} MB at most")


if __name__ == "__main__":
    asyncio.run(main())
