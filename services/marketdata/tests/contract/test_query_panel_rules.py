"""GetPanel's trading-rule fields over a real gRPC server on PostgreSQL: limits from stk_limit,
ST from namechange, suspensions from suspend_d or a missing bar, and days since listing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import update

from services.marketdata.tests.contract.bank_market import BANKS, SUSPENDED, csv, field_violation
from zquant.marketdata.v1 import common_pb2, market_data_pb2
from zquant_kit.grpc.panel_codec import read_panel
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.sync_repository import SqlAlchemySyncRepository

pytestmark = pytest.mark.contract

START, END = "20230103", "20230110"
RULE_FIELDS = ["up_limit", "down_limit", "is_st", "is_suspended", "list_days"]
NEW_LISTING = "601939.SH"  # given a list_date inside the range
ST_CODE, ST_DAYS = "601288.SH", ("20230104", "20230105")
HALTED = ("601398.SH", "20230104")  # a suspend_d row on a day with a bar


async def _load_rules(app) -> pd.DataFrame:
    daily = csv("a_share/daily.csv")
    daily = daily[(daily.trade_date >= START) & (daily.trade_date <= END) & daily.ts_code.isin(BANKS)]
    limits = daily[["ts_code", "trade_date", "pre_close"]].assign(
        up_limit=(daily.pre_close * 1.1).round(2), down_limit=(daily.pre_close * 0.9).round(2)
    )
    await app.bar_store.write("stk_limit", limits)
    repo = SqlAlchemySyncRepository(app.engine, app.sessions)
    await repo.upsert_records("suspend_d", pd.DataFrame(
        [{"ts_code": HALTED[0], "trade_date": HALTED[1], "suspend_timing": None, "suspend_type": "S"}]))
    await repo.upsert_records("namechange", pd.DataFrame([
        {"ts_code": ST_CODE, "name": "农业银行", "start_date": "20100715", "end_date": "20230103", "ann_date": "20100715"},
        {"ts_code": ST_CODE, "name": "*ST农行", "start_date": ST_DAYS[0], "end_date": ST_DAYS[1], "ann_date": "20230103"},
        {"ts_code": ST_CODE, "name": "农业银行", "start_date": "20230106", "end_date": None, "ann_date": "20230105"},
    ]))  # fmt: skip
    async with app.engine.begin() as connection:
        stock = tables.stock_basic
        await connection.execute(
            update(stock).where(stock.c.ts_code == NEW_LISTING).values(list_date=dt.date(2023, 1, 4))
        )
    return limits


async def test_panel_rule_fields(market):
    m, md = market.market, market.viewer
    limits = await _load_rules(market.app)
    request = market_data_pb2.GetPanelRequest(start_date=START, end_date=END, fields=["close", *RULE_FIELDS])
    codes, dates, values = await read_panel(m.GetPanel(request, metadata=md))
    days = [str(d).replace("-", "") for d in dates]
    assert days == ["20230103", "20230104", "20230105", "20230106", "20230109", "20230110"]
    at = lambda code, day: (codes.index(code), days.index(day))  # noqa: E731

    for row in limits.itertuples():
        cell = at(row.ts_code, row.trade_date)
        assert (values["up_limit"][cell], values["down_limit"][cell]) == (row.up_limit, row.down_limit)

    suspended = values["is_suspended"]
    assert suspended[at(*SUSPENDED)] == 1.0  # an open day without a bar
    assert suspended[at(*HALTED)] == 1.0 and not np.isnan(values["close"][at(*HALTED)])  # suspend_d says so
    listed = ~np.isnan(suspended)
    assert suspended[listed].sum() == 2.0

    st = values["is_st"]
    assert [st[at(ST_CODE, d)] for d in days] == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    assert np.nansum(st) == 2.0

    newcomer = values["list_days"][codes.index(NEW_LISTING)]
    assert np.isnan(newcomer[0]) and newcomer[1:].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert np.isnan(st[codes.index(NEW_LISTING), 0]) and np.isnan(suspended[codes.index(NEW_LISTING), 0])
    elder = values["list_days"][codes.index("601398.SH")]
    assert np.all(np.diff(elder) == 1.0) and elder[0] > 900  # counted on the stored calendar since 2019

    def adjusted() -> object:
        wrong = market_data_pb2.GetPanelRequest(
            start_date=START, end_date=END, fields=["close", "up_limit"], adjust=common_pb2.ADJUST_QFQ
        )
        return m.GetPanel(wrong, metadata=md)

    assert await field_violation(adjusted) == "fields"
