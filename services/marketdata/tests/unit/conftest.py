"""The watchlist unit tests' world: fake ports over one in-memory store, with three listed stocks."""

import pytest

from services.marketdata.tests.fakes.watchlist import World


@pytest.fixture
def world() -> World:
    w = World()
    w.store.stocks = {"600000.SH", "000001.SZ", "430047.BJ"}
    return w
