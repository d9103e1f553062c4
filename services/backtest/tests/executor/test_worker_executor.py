"""WorkerRunExecutor with a fake panel source and in-process strategies in a real worker process: the result is
the engine's own, progress arrives, a second run reads no market, failures carry their reason, a cancelled
run stops its worker, factors are read as the owner."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from services.backtest.tests.executor.runs import (
    EqualWeights,
    FakeOwnerTokens,
    FakePanelSource,
    RecordedProgress,
    in_process,
    synthetic_panel,
    vectorised,
)
from zquant_backtest.adapters.panel_cache import PanelCache
from zquant_backtest.adapters.worker_executor import RunTimings, WorkerRunExecutor
from zquant_backtest.adapters.worker_run import run_settings
from zquant_backtest.application.event_engine import EventEngine
from zquant_backtest.application.run_ports import EngineKind, RunConfig, RunFailed, RunSpec, StrategyCode
from zquant_backtest.application.vector_engine import VectorEngine
from zquant_kit.workers import WorkerProcesses

pytestmark = pytest.mark.unit

CODES = ("600000.SH", "600004.SH", "000001.SZ")
PANEL = synthetic_panel(CODES, date(2024, 1, 2), 120)
CONFIG = RunConfig(start=PANEL.days[0], end=PANEL.days[-1], initial_cash=100_000.0, codes=CODES,
                   benchmark="000300.SH", params={"allocation": 20_000.0})  # fmt: skip


def spec(source: str, config: RunConfig = CONFIG, task: str = "t1", version: str = "v1") -> RunSpec:
    return RunSpec(task, "owner-1", StrategyCode(source, {}), config, version)


def executor(
    scratch: Path,
    workers: WorkerProcesses,
    source: FakePanelSource,
    timings: list[RunTimings] | None = None,
    tokens: FakeOwnerTokens | None = None,
    factor_address: str | None = None,
) -> WorkerRunExecutor:
    return WorkerRunExecutor(
        source, PanelCache(scratch / "panels", 1 << 30), workers, in_process, tokens or FakeOwnerTokens(),
        scratch / "boards", factor_address=factor_address, poll_seconds=0.02,
        on_timings=None if timings is None else timings.append,
    )  # fmt: skip


async def test_the_worker_result_is_the_engines_and_a_second_run_reads_no_market(scratch, workers) -> None:
    source, timings = FakePanelSource(PANEL), []
    run = executor(scratch, workers, source, timings)
    progress = RecordedProgress()
    result = await run.execute(spec("dual_ma"), progress)
    alone = EventEngine(PANEL, in_process(StrategyCode("dual_ma", {})), run_settings(CONFIG)).run(
        CONFIG.params
    )
    assert np.array_equal(result.equity.nav, alone.equity.nav) and result.fingerprint == alone.fingerprint
    assert result.fills.qty.size > 0 and result.equity.benchmark_nav is not None
    percents = [percent for percent, _ in progress.reports]
    assert (
        percents == sorted(percents) and percents[-1] == 100.0 and progress.reports[-1][1] == PANEL.days[-1]
    )
    again = await run.execute(spec("dual_ma", task="t2"), RecordedProgress())
    assert source.loads == 1 and np.array_equal(again.equity.nav, result.equity.nav)
    assert [t.warm for t in timings] == [False, True]
    await run.execute(spec("dual_ma", task="t3", version="v2"), RecordedProgress())
    assert source.loads == 2  # a new data version is a new panel


async def test_a_buy_and_hold_equity_is_shares_times_close_plus_cash(scratch, workers) -> None:
    config = replace(CONFIG, params={"code": "600004.SH", "shares": 1_000})
    result = await executor(scratch, workers, FakePanelSource(PANEL)).execute(
        spec("buy_and_hold", config), RecordedProgress()
    )
    assert result.fills.qty.tolist() == [1_000]
    paid = float(result.fills.price[0] * 1_000 + result.fills.costs[0])
    cash = round(CONFIG.initial_cash - paid, 2)
    assert result.equity.cash[-1] == pytest.approx(cash, abs=0.005)
    assert result.equity.nav[-1] == pytest.approx(cash + 1_000 * PANEL.close[-1, 1], abs=0.005)


async def test_strategy_failures_and_bad_params_fail_the_run_with_their_reason(scratch, workers) -> None:
    run = executor(scratch, workers, FakePanelSource(PANEL))
    with pytest.raises(RunFailed, match="ValueError: boom on day three"):
        await run.execute(spec("fails", replace(CONFIG, params={})), RecordedProgress())
    with pytest.raises(RunFailed, match="invalid params: unknown parameters: nope"):
        await run.execute(spec("dual_ma", replace(CONFIG, params={"nope": 1})), RecordedProgress())
    with pytest.raises(RunFailed, match="LookupError: no strategy named 'nope'"):
        await run.execute(spec("nope"), RecordedProgress())
    with pytest.raises(RunFailed, match="unknown code"):
        await run.execute(spec("dual_ma", replace(CONFIG, codes=("688001.SH",))), RecordedProgress())


async def test_cancelling_a_run_stops_its_worker(scratch, workers) -> None:
    run = executor(scratch, workers, FakePanelSource(PANEL))
    progress = RecordedProgress()
    task = asyncio.create_task(run.execute(spec("slow", replace(CONFIG, params={})), progress))
    while not progress.reports:
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert progress.reports[-1][0] < 50.0
    started = asyncio.get_running_loop().time()
    await run.execute(spec("dual_ma", task="t2"), RecordedProgress())  # the only worker is free again
    assert asyncio.get_running_loop().time() - started < 5.0
    assert not list((scratch / "boards").iterdir())


async def test_a_factor_ask_without_the_owners_factor_read_fails_with_that_reason(scratch, workers) -> None:
    tokens = FakeOwnerTokens()
    run = executor(scratch, workers, FakePanelSource(PANEL), tokens=tokens, factor_address="127.0.0.1:1")
    with pytest.raises(RunFailed, match="factor 'mom': the owner lacks factor:read"):
        await run.execute(spec("top_factor", replace(CONFIG, params={})), RecordedProgress())
    assert tokens.asked == [("owner-1", ("factor:read",))]
    assert (await run.execute(spec("dual_ma"), RecordedProgress())).fills.qty.size > 0  # asks none: runs


async def test_a_dead_worker_fails_only_its_run(scratch, workers) -> None:
    run = executor(scratch, workers, FakePanelSource(PANEL))
    with pytest.raises(RunFailed, match="worker process running the backtest died"):
        await run.execute(spec("kills_worker", replace(CONFIG, params={})), RecordedProgress())
    assert (await run.execute(spec("dual_ma", task="t2"), RecordedProgress())).fills.qty.size > 0


async def test_a_vectorised_run_is_the_vector_engines_on_the_targets(scratch, workers) -> None:
    run = WorkerRunExecutor(
        FakePanelSource(PANEL), PanelCache(scratch / "panels", 1 << 30), workers, in_process, FakeOwnerTokens(),
        scratch / "boards", targets=vectorised, poll_seconds=0.02,
    )  # fmt: skip
    config = replace(CONFIG, engine=EngineKind.VECTOR, params={"invested": 0.5})
    result = await run.execute(spec("equal_weights", config), RecordedProgress())
    weights, rebalance = EqualWeights().targets(PANEL, {"invested": 0.5}, None)
    alone = VectorEngine(PANEL, run_settings(config)).run_weights(weights, rebalance)
    assert np.array_equal(result.equity.nav, alone.equity.nav) and result.fills.qty.size > 0
    with pytest.raises(RunFailed, match=r"invested = 2\.0 is above its maximum"):
        await run.execute(
            spec("equal_weights", replace(config, params={"invested": 2.0})), RecordedProgress()
        )


class EvictsRightAfterALookup(PanelCache):
    """The entry goes (another process's put evicted it) between the service's lookup and the worker's open."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, 1 << 30)
        self.evictions = 0

    def contains(self, key: str) -> bool:
        found = super().contains(key)
        if found and not self.evictions:
            self.evictions += 1
            shutil.rmtree(self.root / key)
        return found


async def test_a_panel_evicted_before_the_worker_opens_it_is_read_again(scratch, workers) -> None:
    source = FakePanelSource(PANEL)
    cache = EvictsRightAfterALookup(scratch / "panels")
    run = WorkerRunExecutor(
        source, cache, workers, in_process, FakeOwnerTokens(), scratch / "boards", poll_seconds=0.02
    )
    await run.execute(spec("dual_ma"), RecordedProgress())
    assert source.loads == 1 and cache.evictions == 0
    assert (await run.execute(spec("dual_ma", task="t2"), RecordedProgress())).fills.qty.size > 0
    assert source.loads == 2 and cache.evictions == 1
