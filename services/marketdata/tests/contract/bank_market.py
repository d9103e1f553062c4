"""The bank market the query contract tests load, and Tushare's pro_bar adjustment computed independently.

Adjusted prices are checked against pro_bar's formula computed here with pandas straight from the CSVs:
qfq = price × adj / adj(latest in range), hfq = price × adj.
"""

from __future__ import annotations

import datetime as dt

import grpc
import pandas as pd
import pytest
from google.rpc import error_details_pb2
from sqlalchemy import insert

from zquant_kit.testing import SHARED_DATA, detail
from zquant_marketdata.adapters.sqlalchemy import tables

DATA = SHARED_DATA
BANKS = ["601398.SH", "601939.SH", "601288.SH", "601988.SH"]
SUSPENDED = ("601988.SH", "20230103")  # a daily row we drop: the calendar keeps the day
FACTOR_GAP = ("601939.SH", "20230705")  # an adj_factor row we drop: the previous factor carries on
NO_FACTORS = "000002.SZ"  # bars, never a factor
PRICES = ["open", "high", "low", "close", "pre_close"]


def csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, dtype={"ts_code": str, "trade_date": str})


def drop(frame: pd.DataFrame, key: tuple[str, str]) -> pd.DataFrame:
    return frame[~((frame.ts_code == key[0]) & (frame.trade_date == key[1]))]


async def load(app) -> None:
    daily = csv("a_share/daily.csv")
    await app.bar_store.write("daily", drop(daily, SUSPENDED))
    await app.bar_store.write("adj_factor", drop(csv("a_share/adj_factor.csv"), FACTOR_GAP))
    await app.bar_store.write("daily_basic", csv("a_share/daily_basic.csv"))
    index = csv("index/000001.SH.csv")
    await app.bar_store.write("index_daily", index[index.trade_date >= "20230101"])
    orphan = daily[(daily.ts_code == "601398.SH") & (daily.trade_date >= "20230801")].assign(ts_code=NO_FACTORS)
    await app.bar_store.write("daily", orphan)

    basics = csv("a_share/stock_basic.csv").astype({"symbol": str, "list_date": str})
    now = dt.datetime.now(dt.UTC)
    stock_rows = [
        {**row, "area": None, "delist_date": None, "updated_at": now,
         "list_date": dt.datetime.strptime(row["list_date"], "%Y%m%d").date()}
        for row in basics.to_dict("records")
    ]
    stock_rows.append(
        {"ts_code": NO_FACTORS, "symbol": "000002", "name": "万科A", "area": "深圳", "industry": "全国地产",
         "market": "主板", "exchange": "SZSE", "list_status": "D", "list_date": dt.date(1991, 1, 29),
         "delist_date": None, "updated_at": now}
    )
    open_days = sorted({dt.datetime.strptime(d, "%Y%m%d").date() for d in daily.trade_date})
    calendar, previous = [], None
    day = open_days[0]
    opened = set(open_days)
    while day <= open_days[-1]:
        calendar.append({"exchange": "SSE", "cal_date": day, "is_open": day in opened, "pretrade_date": previous})
        if day in opened:
            previous = day
        day += dt.timedelta(days=1)
    async with app.engine.begin() as connection:
        await connection.execute(insert(tables.stock_basic), stock_rows)
        await connection.execute(insert(tables.trade_cal), calendar)


async def fails(call, code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        result = call()
        if hasattr(result, "__aiter__"):
            async for _ in result:
                pass
        else:
            await result
    assert caught.value.code() == code, caught.value.details()
    return caught.value


async def field_violation(call) -> str:
    error = await fails(call, grpc.StatusCode.INVALID_ARGUMENT)
    return detail(error, error_details_pb2.BadRequest).field_violations[0].field


async def not_found(call) -> str:
    error = await fails(call, grpc.StatusCode.NOT_FOUND)
    return detail(error, error_details_pb2.ResourceInfo).resource_name


def pro_bar(code: str, start: str, end: str, adj: str | None) -> pd.DataFrame:
    """Tushare pro_bar's adjustment, from the CSVs: merge factors, fill a missing one from the
    previous day, scale OHLC + pre_close, recompute change and pct_chg (unrounded here)."""
    daily = csv("a_share/daily.csv")
    factors = csv("a_share/adj_factor.csv")
    daily = daily[(daily.ts_code == code) & daily.trade_date.between(start, end)]
    factors = factors[(factors.ts_code == code) & factors.trade_date.between(start, end)]
    data = daily.merge(factors[["trade_date", "adj_factor"]], on="trade_date", how="left")
    data = data.sort_values("trade_date", ascending=False).reset_index(drop=True)
    data["adj_factor"] = data["adj_factor"].bfill()
    latest = float(factors.sort_values("trade_date", ascending=False)["adj_factor"].iloc[0])
    for col in PRICES:
        if adj == "hfq":
            data[col] = data[col] * data["adj_factor"]
        if adj == "qfq":
            data[col] = data[col] * data["adj_factor"] / latest
    if adj:
        data["change"] = data["close"] - data["pre_close"]
        data["pct_chg"] = data["change"] / data["pre_close"] * 100
    return data.sort_values("trade_date").reset_index(drop=True)


def bars_frame(bars) -> pd.DataFrame:
    names = ["open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "adj_factor"]
    return pd.DataFrame(
        [{"ts_code": b.ts_code, "trade_date": b.trade_date, **{n: getattr(b, n) for n in names}} for b in bars]
    )


