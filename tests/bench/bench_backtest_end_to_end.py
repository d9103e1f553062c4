"""Backtest executor end to end (issue 11): the run's market panel read from a real marketdata (GetPanel over
gRPC, identity + marketdata in-process on a throw-away database `zq_bench_<uuid>` of seeded random bars), cached
on disk, and a 5/20 dual moving-average run in a worker process (`WorkerRunExecutor`, `WorkerProcesses(2)`).

Printed separately: cold (empty cache: GetPanel + cache write + engine), warm (cache hit: memory-mapped panel +
engine), the warm/cold ratio, and throughput: ZQUANT_BENCH_RUNS (4) warm runs submitted at once on two worker
processes, in backtests per minute, next to one warm run's own rate. Scale with ZQUANT_BENCH_STOCKS (500) and
ZQUANT_BENCH_DAYS (2500). The strategy is the `dual_ma_crossover` template (5/20) in the sandbox, as the service runs
it; the cold run also pays each worker's first sandbox zygote start.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs scripts: the repo root

os.environ.setdefault("ZQUANT_BENCH_STOCKS", "500")
os.environ.setdefault("ZQUANT_BENCH_DAYS", "2500")

import grpc
import psycopg

from services.backtest.tests.executor.runs import FakeOwnerTokens, RecordedProgress, warm_up
from tests.bench.bench_marketdata_queries import ADMIN_DSN, DAYS, PASSWORD, STOCKS, _codes, _days, _load
from zquant.identity.v1 import auth_pb2, auth_pb2_grpc
from zquant.marketdata.v1 import market_data_pb2, market_data_pb2_grpc
from zquant_backtest.adapters.marketdata_panel import MarketdataPanelSource
from zquant_backtest.adapters.panel_cache import PanelCache
from zquant_backtest.adapters.sandbox_runners import sandbox_strategy
from zquant_backtest.adapters.templates import PackagedTemplateCatalog
from zquant_backtest.adapters.worker_executor import WORKER_PRELOAD, RunTimings, WorkerRunExecutor
from zquant_backtest.application.run_ports import RunConfig, RunSpec, StrategyCode
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.grpc.client import bearer
from zquant_kit.runner import start_stack, upgrade_all
from zquant_kit.service import discover
from zquant_kit.service_credential import load_service_secret, service_metadata
from zquant_kit.settings import Settings
from zquant_kit.workers import WorkerProcesses

RUNS = int(os.environ.get("ZQUANT_BENCH_RUNS", "4"))
CASH = 10_000_000.0
_TEMPLATE = PackagedTemplateCatalog().get("dual_ma_crossover")
assert _TEMPLATE is not None
TEMPLATE = StrategyCode(_TEMPLATE.source, dict(_TEMPLATE.params_schema))


async def _credential(stack, settings: Settings) -> tuple[list[tuple[str, str]], str]:
    """The service's own credential when marketdata grants it data:read, else an admin's token (said so)."""
    service = list(service_metadata(load_service_secret(settings)))
    async with grpc.aio.insecure_channel(stack.address("marketdata")) as channel:
        probe = market_data_pb2.GetTradeCalendarRequest(start_date="20140101", end_date="20140110")
        try:
            await market_data_pb2_grpc.MarketDataServiceStub(channel).GetTradeCalendar(
                probe, metadata=service
            )
            return service, "the service credential"
        except grpc.aio.AioRpcError as error:
            refused = error.code().name
    async with grpc.aio.insecure_channel(stack.address("identity")) as channel:
        login = auth_pb2.LoginRequest(username="admin", password=PASSWORD)
        token = (await auth_pb2_grpc.AuthServiceStub(channel).Login(login)).tokens.access_token
    return bearer(token), f"an admin token (marketdata answers {refused} to the service credential)"


async def main() -> None:
    name = f"zq_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    known = discover()
    definitions = [known["identity"], known["marketdata"]]
    scratch = Path(tempfile.mkdtemp(prefix="zq-bench-backtest-"))
    settings = Settings({
        "ZQUANT_IDENTITY_DATABASE_URL": url, "ZQUANT_MARKETDATA_DATABASE_URL": url,
        "ZQUANT_ADMIN_PASSWORD": PASSWORD, "ZQUANT_EVENT_BUS": "inprocess", "ZQUANT_DATA_DIR": str(scratch),
    })  # fmt: skip
    stack, workers = None, WorkerProcesses(2, (*WORKER_PRELOAD, "services.backtest.tests.executor.runs"))
    try:
        await upgrade_all(definitions, settings)
        stack = await start_stack(definitions, settings, bus=InProcessEventBus(), ephemeral_ports=True)
        names, days = _codes(), _days()
        began = time.perf_counter()
        await _load(stack.apps["marketdata"], names, days)
        await stack.apps["marketdata"].bar_store.refresh_blocks()
        print(f"scale                {STOCKS} stocks × {DAYS} days, loaded into marketdata in "
              f"{time.perf_counter() - began:.1f} s (not timed below)")  # fmt: skip
        metadata, credential = await _credential(stack, settings)
        print(f"marketdata read as   {credential}")
        print("strategy             the dual_ma_crossover template (5/20) through the sandbox (SandboxStrategyPort)")
        timings: list[RunTimings] = []
        async with grpc.aio.insecure_channel(stack.address("marketdata")) as channel:
            executor = WorkerRunExecutor(
                MarketdataPanelSource(channel, metadata), PanelCache(scratch / "panels", 4 << 30), workers,
                sandbox_strategy, FakeOwnerTokens(), scratch / "boards", on_timings=timings.append,
            )  # fmt: skip
            config = RunConfig(start=days[0].item(), end=days[-1].item(), initial_cash=CASH, codes=tuple(names))

            def spec(task: str) -> RunSpec:
                return RunSpec(task, "bench", TEMPLATE, config, "bench-v1")

            await asyncio.gather(workers.run(warm_up), workers.run(warm_up))  # both workers up, nothing timed
            began = time.perf_counter()
            cold = await executor.execute(spec("cold"), RecordedProgress())
            cold_s = time.perf_counter() - began
            began = time.perf_counter()
            warm = await executor.execute(spec("warm"), RecordedProgress())
            warm_s = time.perf_counter() - began
            assert (cold.equity.nav == warm.equity.nav).all() and cold.fills.qty.size > 0
            began = time.perf_counter()
            await asyncio.gather(
                *(executor.execute(spec(f"many-{i}"), RecordedProgress()) for i in range(RUNS))
            )
            many_s = time.perf_counter() - began
    finally:
        await workers.close()
        if stack is not None:
            await stack.stop(0)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    first, second = timings[0], timings[1]
    assert not first.warm and second.warm
    print(f"cold run             {cold_s:6.2f} s end to end  (panel: GetPanel + cache write {first.panel_seconds:.2f} s,"
          f" engine {first.engine_seconds:.2f} s, {cold.fills.qty.size:,} fills)")  # fmt: skip
    print(f"warm run             {warm_s:6.2f} s end to end  (panel: cache hit {second.panel_seconds * 1e3:.1f} ms,"
          f" engine {second.engine_seconds:.2f} s)")  # fmt: skip
    print(f"warm / cold          {warm_s / cold_s:.2f}x  (panel part: "
          f"{second.panel_seconds / first.panel_seconds:.1e}x)")  # fmt: skip
    single = 60.0 / warm_s
    throughput = RUNS * 60.0 / many_s
    print(
        f"throughput           {throughput:.1f} backtests/min with 2 worker processes ({RUNS} warm runs at once in "
        f"{many_s:.1f} s); one at a time {single:.1f}/min; ratio {throughput / single:.2f}x on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    asyncio.run(main())
