"""The CSV source serves the rule datasets from a_share/<api>.csv files, filtered as Tushare does."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

from zquant_marketdata.adapters.csv_source import CsvDirectorySource
from zquant_marketdata.application.source_port import BarQuery

pytestmark = pytest.mark.unit


def test_csv_files_of_the_rule_datasets_are_served(tmp_path) -> None:
    shares = tmp_path / "a_share"
    shares.mkdir()
    pd.DataFrame(
        {"ts_code": ["000001.SZ"] * 2, "trade_date": ["2024-01-02", "20240103"], "pre_close": [10.0, 10.5],
         "up_limit": [11.0, 11.55], "down_limit": [9.0, 9.45]}
    ).to_csv(shares / "stk_limit.csv", index=False)  # fmt: skip
    pd.DataFrame(
        {"ts_code": ["000001.SZ", "000001.SZ"], "name": ["平安银行", "ST平安"], "start_date": ["19910403", "20240103"],
         "end_date": ["20240102", None], "ann_date": ["19910403", "20240102"], "change_reason": [None, "ST"]}
    ).to_csv(shares / "namechange.csv", index=False)  # fmt: skip
    source = CsvDirectorySource(tmp_path)
    assert source.datasets == ("stock_basic", "trade_cal", "stk_limit", "namechange")

    async def scenario():
        limits = await source.bars(BarQuery("stk_limit", trade_date="20240102"))
        assert limits["up_limit"].tolist() == [11.0]
        names = await source.fetch_table("namechange", {"start_date": "20240101", "end_date": "20241231"})
        assert names["name"].tolist() == ["ST平安"] and names["start_date"].tolist() == ["20240103"]
        assert (await source.fetch_table("dividend", {"ex_date": "20240103"})).empty

    asyncio.run(scenario())
