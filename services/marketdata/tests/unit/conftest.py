"""Fixtures of marketdata's unit tests: the watchlist's fake world, and the fake Tushare server and a source on it."""

from collections.abc import Iterator

import pytest

from services.marketdata.tests.fakes.fake_tushare import FakeTushareServer
from services.marketdata.tests.fakes.tushare_settings import TOKEN, fast_settings
from services.marketdata.tests.fakes.watchlist import World
from zquant_kit.testing import SHARED_DATA
from zquant_marketdata.adapters.tushare.source import TushareMarketDataSource


@pytest.fixture
def world() -> World:
    w = World()
    w.store.stocks = {"600000.SH", "000001.SZ", "430047.BJ"}
    return w


@pytest.fixture(scope="module")
def market_server() -> Iterator[FakeTushareServer]:
    with FakeTushareServer.from_data_dir(SHARED_DATA, token=TOKEN) as server:
        yield server


@pytest.fixture
def server(market_server: FakeTushareServer) -> FakeTushareServer:
    market_server.reset()
    return market_server


@pytest.fixture
def source(server: FakeTushareServer) -> TushareMarketDataSource:
    return TushareMarketDataSource(fast_settings(server.url))
