"""MarketDataService read path: GetPanel throughput next to a raw binary COPY, GetBars qfq latency.

Targets (marketdata issue): GetPanel of stocks × days × (open, high, low, close, vol, adj_factor)
streamed to a Python gRPC client into numpy ≥ 2M bars/s and ≥ 0.5× a raw `COPY ... TO STDOUT
(FORMAT BINARY)` of the same rows (psycopg, bytes only, same run); GetBars of one stock over
10 years with qfq: p50 < 10 ms. identity + marketdata run in-process on a throw-away database
`zq_bench_<uuid>`; scale with ZQUANT_BENCH_STOCKS / ZQUANT_BENCH_DAYS (default 5000 × 2500). The
load is written the way a sync writes it, then the blocks are refreshed as a sync run does when it
ends; every GetPanel call is a cold read of the store (no result cache exists).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import time
import uuid

import grpc
import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import insert

from zquant.identity.v1 import auth_pb2, auth_pb2_grpc
from zquant.marketdata.v1 import common_pb2, market_data_pb2, market_data_pb2_grpc
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.grpc.client import bearer
from zquant_kit.grpc.panel_codec import read_panel
from zquant_kit.runner import start_stack, upgrade_all
from zquant_kit.service import discover
from zquant_kit.settings import Settings
from zquant_marketdata.adapters.sqlalchemy import tables

ADMIN_DSN = os.environ.get("ZQUANT_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
STOCKS = int(os.environ.get("ZQUANT_BENCH_STOCKS", "5000"))
DAYS = int(os.environ.get("ZQUANT_BENCH_DAYS", "2500"))
PASSWORD = "Bench-Passw0rd!"
PANEL_FIELDS = ["open", "high", "low", "close", "vol", "adj_factor"]
PANEL_RUNS = 3
BARS_CALLS = 300
CODES_PER_WRITE = 250


def _days() -> np.ndarray:
    return np.busday_offset(np.datetime64("2014-01-02"), np.arange(DAYS), roll="forward").astype("datetime64[D]")


def _codes() -> list[str]:
    return [f"{600000 + i:06d}.SH" for i in range(STOCKS)]


def _frames(names: list[str], days: np.ndarray, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    shape = (len(names), days.size)
    close = 10 * np.exp(np.cumsum(rng.normal(0, 0.02, shape), axis=1))
    factor = np.cumprod(np.where(rng.random(shape) < 0.004, 1.05, 1.0), axis=1)  # an ex-rights day a year
    pre_close = np.concatenate([close[:, :1], close[:, :-1] * factor[:, :-1] / factor[:, 1:]], axis=1)
    keys = {
        "ts_code": pd.Categorical.from_codes(np.repeat(np.arange(len(names)), days.size), categories=names),
        "trade_date": np.tile(days, len(names)),
    }
    daily = pd.DataFrame({
        **keys, "open": pre_close.ravel(), "high": (close * 1.01).ravel(), "low": (close * 0.99).ravel(),
        "close": close.ravel(), "pre_close": pre_close.ravel(), "change": (close - pre_close).ravel(),
        "pct_chg": ((close / pre_close - 1) * 100).ravel(), "vol": rng.integers(1e3, 1e6, close.size).astype(float),
    })
    return daily, pd.DataFrame({**keys, "adj_factor": factor.ravel()})


async def _load(app, names: list[str], days: np.ndarray) -> None:
    for offset in range(0, len(names), CODES_PER_WRITE):
        daily, factors = _frames(names[offset : offset + CODES_PER_WRITE], days, seed=offset)
        await app.bar_store.write("daily", daily)
        await app.bar_store.write("adj_factor", factors)
    now = dt.datetime.now(dt.UTC)
    stocks = [
        {"ts_code": code, "symbol": code[:6], "name": f"S{code[:6]}", "area": None, "industry": "bench",
         "market": "主板", "exchange": "SSE", "list_status": "L", "list_date": dt.date(2000, 1, 1),
         "delist_date": None, "updated_at": now}
        for code in names
    ]
    opened = days.astype(object).tolist()
    calendar = [{"exchange": "SSE", "cal_date": day, "is_open": True, "pretrade_date": None} for day in opened]
    async with app.engine.begin() as connection:
        await connection.execute(insert(tables.stock_basic), stocks)
        await connection.execute(insert(tables.trade_cal), calendar)
        await connection.exec_driver_sql("ANALYZE")


async def _raw_copy(conninfo: str, start: dt.date, end: dt.date) -> float:
    """The reference: the same bars and factors as per-row binary COPY, bytes only."""
    statements = [
        "COPY (SELECT ts_code, trade_date, open, high, low, close, vol FROM marketdata.daily "
        "WHERE trade_date BETWEEN %s AND %s) TO STDOUT (FORMAT BINARY)",
        "COPY (SELECT ts_code, trade_date, adj_factor FROM marketdata.adj_factor "
        "WHERE trade_date BETWEEN %s AND %s) TO STDOUT (FORMAT BINARY)",
    ]
    async with await psycopg.AsyncConnection.connect(conninfo) as connection:
        started = time.perf_counter()
        size = 0
        for statement in statements:
            async with connection.cursor().copy(statement, (start, end)) as copy:
                async for block in copy:
                    size += len(block)
        return time.perf_counter() - started


async def main() -> None:
    name = f"zq_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    conninfo = psycopg.conninfo.make_conninfo(ADMIN_DSN, dbname=name)
    known = discover()
    definitions = [known["identity"], known["marketdata"]]
    settings = Settings({
        "ZQUANT_IDENTITY_DATABASE_URL": url, "ZQUANT_MARKETDATA_DATABASE_URL": url,
        "ZQUANT_ADMIN_PASSWORD": PASSWORD, "ZQUANT_EVENT_BUS": "inprocess",
    })
    stack = None
    try:
        await upgrade_all(definitions, settings)
        stack = await start_stack(definitions, settings, bus=InProcessEventBus(), ephemeral_ports=True)
        names, days = _codes(), _days()
        started = time.perf_counter()
        await _load(stack.apps["marketdata"], names, days)
        bars = STOCKS * DAYS
        print(f"scale                    {STOCKS} stocks × {DAYS} days = {bars:,} bars (+ as many factors),"
              f" loaded in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        years = await stack.apps["marketdata"].bar_store.refresh_blocks()  # what a sync run does when it ends
        print(f"block refresh            {years} dataset-years in {time.perf_counter() - started:.1f} s")
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
            # What autovacuum does after a bulk load, done now so it does not run inside the timed reads.
            await connection.execute("VACUUM (ANALYZE)")
        start, end = days[0].item(), days[-1].item()

        options = [("grpc.max_receive_message_length", 64 << 20)]
        async with grpc.aio.insecure_channel(stack.address("identity")) as channel:
            login = auth_pb2.LoginRequest(username="admin", password=PASSWORD)
            metadata = bearer((await auth_pb2_grpc.AuthServiceStub(channel).Login(login)).tokens.access_token)
        async with grpc.aio.insecure_channel(stack.address("marketdata"), options=options) as channel:
            market = market_data_pb2_grpc.MarketDataServiceStub(channel)
            request = market_data_pb2.GetPanelRequest(
                start_date=start.strftime("%Y%m%d"), end_date=end.strftime("%Y%m%d"), fields=PANEL_FIELDS
            )
            raw_times, panel_times = [], []
            for _ in range(PANEL_RUNS):
                raw_times.append(await _raw_copy(conninfo, start, end))
                began = time.perf_counter()
                codes, dates, values = await read_panel(market.GetPanel(request, metadata=metadata))
                panel_times.append(time.perf_counter() - began)
                assert len(codes) == STOCKS and dates.size == DAYS
                assert all(v.shape == (STOCKS, DAYS) for v in values.values())
                assert not np.isnan(values["close"]).any()
                del values

            code = names[len(names) // 2]
            bars_request = market_data_pb2.GetBarsRequest(
                ts_codes=[code], start_date=request.start_date, end_date=request.end_date,
                adjust=common_pb2.ADJUST_QFQ,
            )
            reply = await market.GetBars(bars_request, metadata=metadata)
            assert len(reply.bars) == DAYS
            for _ in range(30):
                await market.GetBars(bars_request, metadata=metadata)
            samples = []
            for _ in range(BARS_CALLS):
                began = time.perf_counter()
                await market.GetBars(bars_request, metadata=metadata)
                samples.append(time.perf_counter() - began)
    finally:
        if stack is not None:
            await stack.stop(0)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    raw_rps = bars / min(raw_times)
    panel_rps = bars / min(panel_times)
    ratio = panel_rps / raw_rps
    print(f"raw COPY reference       {raw_rps:,.0f} bars/s  (best of {PANEL_RUNS}: {min(raw_times):.2f} s, "
          "per-row binary COPY of daily + adj_factor, bytes only)")
    print(f"GetPanel → numpy         {panel_rps:,.0f} bars/s  (best of {PANEL_RUNS}: {min(panel_times):.2f} s, "
          f"{len(PANEL_FIELDS)} fields)  {'meets' if panel_rps >= 2e6 else 'misses'} the ≥ 2M bars/s target")
    print(f"GetPanel / raw COPY      {ratio:.2f}x  ({'meets' if ratio >= 0.5 else 'misses'} the ≥ 0.5x target)")
    ordered = sorted(samples)
    p50, p99 = statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.99) - 1] * 1e3
    print(f"GetBars 1 stock × {DAYS} days qfq  p50 {p50:.2f} ms  p99 {p99:.2f} ms"
          f"  ({'meets' if p50 < 10 else 'misses'} the < 10 ms p50 target)")


if __name__ == "__main__":
    asyncio.run(main())
