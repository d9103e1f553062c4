"""Scheduler firing precision and claim throughput (issue 12) on PostgreSQL.

1. Firing precision: 1,000 enabled jobs firing every second on 2 replicas (separate processes, the replica test's
   `replica_main`, a recording target), all due at the same instants, for ZQUANT_BENCH_SECONDS (default 10):
   p50 and p99 from due to dispatched. Target p99 ≤ 250 ms; the ratio printed is p99 / 250 ms.
2. Claim throughput: runs inserted per second by `claim_schedules` alone (one process), 1,000 jobs 30 slots behind;
   the ratio printed is against the 1,000 runs/s the firing benchmark demands.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs scripts: the repo root for imports

from services.scheduler.tests.fakes.targets import RecordingTargets
from services.scheduler.tests.fakes.world import owner, scheduler_app, spec
from services.scheduler.tests.integration.test_replicas import _dispatches, _ready, _replica
from zquant_kit.testing.databases import throwaway_database
from zquant_scheduler.adapters.sqlalchemy import tables

JOBS = 1000
SECONDS = float(os.environ.get("ZQUANT_BENCH_SECONDS", "10"))
TARGET_P99_MS = 250.0


async def _jobs(url: str):
    app = await scheduler_app(url, RecordingTargets())
    for index in range(JOBS):
        await app.jobs.create_job(owner(), spec(f"job-{index:04d}", interval_seconds=1, enabled=False))
    return app


async def firing(url: str, workdir: Path) -> None:
    app = await _jobs(url)
    logs = [workdir / f"replica-{i}.log" for i in range(2)]
    replicas = [_replica(url, log, target_seconds="0") for log in logs]
    try:
        await asyncio.gather(*(_ready(p, log) for p, log in zip(replicas, logs)))
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=2)
        async with app.engine.begin() as connection:
            await connection.execute(update(tables.jobs).values(enabled=True, created_at=start, next_run_at=start))
        await asyncio.sleep((start - dt.datetime.now(dt.UTC)).total_seconds() + SECONDS + 2)
    finally:
        for process in replicas:
            process.send_signal(signal.SIGTERM)
        for process in replicas:
            process.wait(timeout=60)
    end = start + dt.timedelta(seconds=SECONDS)
    async with app.engine.connect() as connection:
        rows = (await connection.execute(select(tables.runs.c.id, tables.runs.c.scheduled_time))).all()
    await app.infra.engine.dispose()
    _, first, _ = _dispatches(logs)
    delays = np.array([first[r.id] - r.scheduled_time.timestamp() for r in rows if r.scheduled_time < end and r.id in first]) * 1000
    p50, p99 = np.percentile(delays, 50), np.percentile(delays, 99)
    print(f"firing precision: {len(delays)} runs of {JOBS} jobs every 1 s on 2 replicas for {SECONDS:.0f} s: "
          f"due→dispatched p50 {p50:.0f} ms, p99 {p99:.0f} ms (target p99 ≤ {TARGET_P99_MS:.0f} ms, ratio "
          f"{p99 / TARGET_P99_MS:.2f}); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip


async def throughput(url: str) -> None:
    app = await _jobs(url)
    behind = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    async with app.engine.begin() as connection:
        await connection.execute(update(tables.jobs).values(enabled=True, created_at=behind, next_run_at=behind))
    claimed, began = 0, time.perf_counter()
    while batch := await app.claims.claim_schedules(500):
        claimed += len(batch)
    seconds = time.perf_counter() - began
    await app.infra.engine.dispose()
    rate = claimed / seconds
    print(f"claim throughput: {claimed} runs claimed in {seconds:.2f} s = {rate:.0f} runs/s "
          f"(ratio to the 1,000 runs/s of 1,000 jobs each second: {rate / JOBS:.1f})")  # fmt: skip


async def main() -> None:
    import tempfile

    with throwaway_database() as url, tempfile.TemporaryDirectory() as workdir:
        await firing(url, Path(workdir))
    with throwaway_database() as url:
        await throughput(url)


if __name__ == "__main__":
    asyncio.run(main())
