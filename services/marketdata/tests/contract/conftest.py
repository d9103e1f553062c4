"""The query contract tests' market: the real-data bank market loaded into a running marketdata."""

import pytest

from services.marketdata.tests.contract.bank_market import load


@pytest.fixture
async def market(marketdata):
    await load(marketdata.app)
    _, marketdata.viewer = await marketdata.user("vera", role="viewer")
    return marketdata
