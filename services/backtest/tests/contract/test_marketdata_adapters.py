"""The panel source and the catalog against a real marketdata loaded with the four banks (2019-01 … 2023-08), and
a whole executor run on that data: buy-and-hold's equity is shares × close + cash to the cent; a template run twice
through the sandbox reproduces its fingerprint and metrics."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from services.backtest.tests.executor.runs import FakeOwnerTokens, RecordedProgress, in_process
from services.marketdata.tests.contract.bank_market import BANKS, SUSPENDED, csv
from zquant_backtest.adapters.marketdata_catalog import MarketdataCatalog
from zquant_backtest.adapters.marketdata_panel import MarketdataPanelSource
from zquant_backtest.adapters.panel_cache import PanelCache
from zquant_backtest.adapters.sandbox_runners import sandbox_strategy
from zquant_backtest.adapters.templates import PackagedTemplateCatalog
from zquant_backtest.adapters.worker_executor import WorkerRunExecutor
from zquant_backtest.application.run_ports import RunConfig, RunFailed, RunSpec, StrategyCode
from zquant_kit.errors import FailedPrecondition

pytestmark = pytest.mark.contract

START, END = date(2023, 1, 3), date(2023, 8, 29)
CONFIG = RunConfig(start=START, end=END, initial_cash=100_000.0, codes=tuple(BANKS), benchmark="000001.SH")


def _frame_value(name: str, code: str, day: str, column: str) -> float:
    frame = csv(name)
    return float(frame[(frame.ts_code == code) & (frame.trade_date == day)][column].item())


async def test_the_panel_and_the_catalog_are_marketdatas(market) -> None:
    source = MarketdataPanelSource(market.client.channel("marketdata"), market.viewer)
    panel = await source.load(CONFIG)
    assert panel.codes == tuple(BANKS) and panel.days[0] == START and panel.days[-1] == END
    assert panel.close[-1, 0] == _frame_value("a_share/daily.csv", BANKS[0], "20230829", "close")
    assert panel.volume[-1, 0] == _frame_value("a_share/daily.csv", BANKS[0], "20230829", "vol")
    column = BANKS.index(SUSPENDED[0])
    assert panel.is_suspended[0, column] and np.isnan(panel.close[0, column]) and not panel.has_bar[0, column]
    assert not panel.is_st.any() and (np.diff(panel.list_days[:, 0]) == 1).all()  # one per open day
    assert panel.benchmark_close is not None
    assert panel.benchmark_close[-1] == _frame_value("index/000001.SH.csv", "000001.SH", "20230829", "close")
    with pytest.raises(RunFailed, match=r"marketdata: .*000001\.SZ"):
        await source.load(RunConfig(start=START, end=END, initial_cash=1.0, codes=("000001.SZ",)))
    with pytest.raises(RunFailed, match="index membership"):
        await source.load(RunConfig(start=START, end=END, initial_cash=1.0, index_code="000300.SH"))

    catalog = MarketdataCatalog(market.client.channel("marketdata"), market.viewer)
    days = await catalog.trading_days(date(2023, 8, 25), date(2023, 8, 29))
    assert days == [date(2023, 8, 25), date(2023, 8, 28), date(2023, 8, 29)]
    assert await catalog.unknown_codes([BANKS[0], "000001.SZ", "000002.SZ", "000001.SZ"]) == ["000001.SZ"]
    assert await catalog.index_exists("000001.SH") and not await catalog.index_exists("399001.SZ")
    stranger = MarketdataCatalog(market.client.channel("marketdata"), [("authorization", "Bearer nope")])
    with pytest.raises(FailedPrecondition, match="marketdata"):
        await stranger.trading_days(START, END)


async def test_buy_and_hold_on_real_bars_is_shares_times_close_plus_cash(market, workers, tmp_path) -> None:
    source = MarketdataPanelSource(market.client.channel("marketdata"), market.viewer)
    run = WorkerRunExecutor(
        source, PanelCache(tmp_path / "panels", 1 << 30), workers, in_process, FakeOwnerTokens(),
        tmp_path / "boards", poll_seconds=0.05,
    )  # fmt: skip
    shares, code = 10_000, BANKS[0]
    config = RunConfig(start=START, end=END, initial_cash=100_000.0, codes=tuple(BANKS), benchmark="000001.SH",
                       params={"code": code, "shares": shares})  # fmt: skip
    result = await run.execute(
        RunSpec("t1", "u1", StrategyCode("buy_and_hold", {}), config, "v1"), RecordedProgress()
    )
    assert result.fills.qty.tolist() == [shares] and result.fills.day.tolist() == [1]
    price = _frame_value("a_share/daily.csv", code, "20230104", "open")  # day 0's order fills at day 1's open
    assert result.fills.price[0] == price
    commission = round(max(5.0, price * shares * 0.00025), 2)
    transfer = round(price * shares * 0.00001, 2)  # SSE's 0.001% since 2022-04-29
    assert (result.fills.commission[0], result.fills.transfer_fee[0]) == (commission, transfer)
    # 2023-07-17's ex-rights gap, carried as cash (marketdata serves no dividend rows): 4.87 × (1 − 2.106013/2.245984)
    dividend = round(shares * 4.87 * (1 - 2.106013 / 2.245984), 2)
    cash = round(100_000.0 - price * shares - commission - transfer + dividend, 2)
    assert round(float(result.equity.cash[-1]), 2) == cash
    close = _frame_value("a_share/daily.csv", code, "20230829", "close")
    assert round(float(result.equity.nav[-1]), 2) == round(shares * close + cash, 2)
    index = [
        _frame_value("index/000001.SH.csv", "000001.SH", day, "close") for day in ("20230103", "20230829")
    ]
    assert result.equity.benchmark_nav is not None
    assert result.equity.benchmark_nav[-1] == pytest.approx(100_000.0 * index[1] / index[0], rel=1e-12)


async def test_a_rerun_of_the_same_inputs_reproduces_the_fingerprint_and_every_metric(market, workers, tmp_path) -> None:
    """A template through the real sandbox twice (the second on the warm cache): same fingerprint, identical
    metrics, equity and fills, bit for bit."""
    template = PackagedTemplateCatalog().get("dual_ma_crossover")
    assert template is not None
    source = MarketdataPanelSource(market.client.channel("marketdata"), market.viewer)
    run = WorkerRunExecutor(
        source, PanelCache(tmp_path / "panels", 1 << 30), workers, sandbox_strategy, FakeOwnerTokens(),
        tmp_path / "boards", poll_seconds=0.05,
    )  # fmt: skip
    code = StrategyCode(template.source, dict(template.params_schema))  # as the task stores it
    first, second = [
        await run.execute(RunSpec(task, "u1", code, CONFIG, "v1"), RecordedProgress()) for task in ("t1", "t2")
    ]
    assert len(first.fills.qty) > 0
    assert first.fingerprint == second.fingerprint
    assert repr(first.performance) == repr(second.performance)  # NaN-safe, every float to the last bit
    assert np.array_equal(first.equity.nav, second.equity.nav)
    assert np.array_equal(first.fills.price, second.fills.price) and np.array_equal(first.fills.qty, second.fills.qty)
