"""Two kinds of contract fixture: a real backtest gRPC server (port 0) with the identity service it authenticates
against, over PostgreSQL, built with the test fakes of the market catalog, executor, renderer and templates; and
marketdata's own contract fixtures (identity + marketdata, the real bank market loaded) with a worker pool, for the
executor's adapters."""


from __future__ import annotations

from dataclasses import dataclass

import pytest

from services.backtest.tests.executor.conftest import workers  # noqa: F401  (fixture)
from services.backtest.tests.fakes.executors import DeterministicExecutor
from services.backtest.tests.fakes.ports import FakeMarketCatalog, FakeRenderer, FakeTemplates
from services.marketdata.tests.conftest import (  # noqa: F401  (fixtures)
    marketdata,
    marketdata_extra_settings,
    marketdata_settings,
)
from services.marketdata.tests.contract.conftest import market  # noqa: F401  (fixture)
from zquant.backtest.v1 import backtest_pb2_grpc, strategy_pb2_grpc
from zquant_backtest.application.run_ports import RunExecutor
from zquant_backtest.bootstrap import BacktestAdapters, definition
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.testing import StackUsers, running_stack, services, stack_settings


def fake_adapters(executor: RunExecutor | None = None) -> BacktestAdapters:
    return BacktestAdapters(
        executor=lambda config, infra: executor or DeterministicExecutor(),
        market_catalog=lambda config, infra: FakeMarketCatalog(),
        report_renderer=lambda config, infra: FakeRenderer(),
        template_catalog=lambda config, infra: FakeTemplates(),
    )


@dataclass
class BacktestClient(StackUsers):
    backtests: backtest_pb2_grpc.BacktestServiceStub
    strategies: strategy_pb2_grpc.StrategyServiceStub


@pytest.fixture
def executor() -> RunExecutor:
    """The executor the server runs tasks with (a test module may override this fixture)."""
    return DeterministicExecutor()


@pytest.fixture
async def backtest(pg_database, executor):
    stack = [*services("identity"), definition(fake_adapters(executor))]
    settings = stack_settings(pg_database, "identity", "backtest")
    async with running_stack(stack, settings, bus=InProcessEventBus()) as client:
        channel = client.channel("backtest")
        yield BacktestClient(
            client,
            backtest_pb2_grpc.BacktestServiceStub(channel),
            strategy_pb2_grpc.StrategyServiceStub(channel),
        )
