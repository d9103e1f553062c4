"""The demo's backtest section, on the synced sample market, as alice over gRPC: two templates submitted as tasks
(run by the worker pool, user code only in the sandbox), their progress, their metrics side by side, what differs
between the two runs, and the self-contained HTML report written to the data directory."""

from __future__ import annotations

import math
from pathlib import Path

from zquant.backtest.v1 import backtest_pb2 as pb
from zquant.backtest.v1 import backtest_pb2_grpc, strategy_pb2, strategy_pb2_grpc
from zquant.marketdata.v1 import market_data_pb2, market_data_pb2_grpc
from zquant_demo.output import step
from zquant_kit.client_cli import progress_bar
from zquant_kit.grpc.client import insecure_channel

TEMPLATES = ("dual_ma_crossover", "macd_cross")
UNIVERSE_SIZE = 30
BENCHMARK = "000300.SH"
SHOWN = ("total_return", "annual_return", "annual_volatility", "sharpe", "max_drawdown", "win_rate", "total_costs")


def _cell(value: float) -> str:
    return f"{value:>16,.4f}" if math.isfinite(value) else f"{'n/a':>16}"


async def _universe(marketdata_address: str, alice: list) -> list[str]:
    async with insecure_channel(marketdata_address) as channel:
        market = market_data_pb2_grpc.MarketDataServiceStub(channel)
        listed = await market.ListStocks(market_data_pb2.ListStocksRequest(page_size=UNIVERSE_SIZE), metadata=alice)
        return [stock.ts_code for stock in listed.stocks]


async def _run(tasks, template: str, config: pb.BacktestConfig,
               alice: list) -> str:  # fmt: skip
    submitted = await tasks.SubmitBacktest(pb.SubmitBacktestRequest(template_name=template, config=config), metadata=alice)
    task_id = submitted.task.task_id
    shown = -25.0
    final = submitted.task.state
    async for update in tasks.WatchBacktest(pb.WatchBacktestRequest(task_id=task_id), metadata=alice):
        final = update.state
        if update.percent - shown >= 25 or final not in (pb.TASK_STATE_QUEUED, pb.TASK_STATE_RUNNING):
            print(f"    {template:<18} {progress_bar(update.percent)} {update.percent:5.1f}% {update.current_date or '':<8}"
                  f" {pb.TaskState.Name(final).removeprefix('TASK_STATE_').lower()}", flush=True)  # fmt: skip
            shown = update.percent
    if final != pb.TASK_STATE_SUCCEEDED:
        task = await tasks.GetBacktest(pb.GetBacktestRequest(task_id=task_id), metadata=alice)
        raise SystemExit(f"demo failed: backtest {template} ended {pb.TaskState.Name(final)}: {task.task.error}")
    return task_id


async def backtest_tour(address: str, marketdata_address: str, alice: list, start: str, end: str,
                        out_dir: Path) -> list[str]:  # fmt: skip
    """Returns the universe it backtested, for the scheduler's pipeline."""
    codes = await _universe(marketdata_address, alice)
    async with insecure_channel(address) as channel:
        tasks = backtest_pb2_grpc.BacktestServiceStub(channel)
        strategies = strategy_pb2_grpc.StrategyServiceStub(channel)
        info = await strategies.GetSandboxInfo(strategy_pb2.GetSandboxInfoRequest(), metadata=alice)
        step(f"backtests run user code only in the sandbox: {', '.join(info.layers)}")
        listed = await strategies.ListTemplates(strategy_pb2.ListTemplatesRequest(), metadata=alice)
        print(f"    templates: {', '.join(t.name for t in listed.templates)}")

        step(f"alice backtests two templates on {len(codes)} stocks, {start}..{end}, against {BENCHMARK}")
        config = pb.BacktestConfig(ts_codes=codes, start_date=start, end_date=end, initial_cash=1_000_000,
                                   benchmark=BENCHMARK, fill_timing=pb.FILL_TIMING_OPEN)  # fmt: skip
        ids = [await _run(tasks, template, config, alice) for template in TEMPLATES]
        results = [
            await tasks.GetBacktestResult(pb.GetBacktestResultRequest(task_id=task_id, max_rows=1), metadata=alice)
            for task_id in ids
        ]
        print(f"    {'metric':<18}" + "".join(f"{name:>16}" for name in TEMPLATES))
        for metric in SHOWN:
            print(f"    {metric:<18}" + "".join(_cell(getattr(r.metrics, metric)) for r in results))
        print(f"    {'fills':<18}" + "".join(f"{r.total_fills:>16,}" for r in results))

        compared = await tasks.CompareRuns(pb.CompareRunsRequest(first_task_id=ids[0], second_task_id=ids[1]),
                                           metadata=alice)  # fmt: skip
        differing = sorted({d.field.split(".", 1)[0] for d in compared.differences})
        print(f"    CompareRuns: same fingerprint {compared.same_fingerprint}; they differ in {', '.join(differing)}")

        chunks = [reply async for reply in tasks.GetBacktestReport(pb.GetBacktestReportRequest(task_id=ids[0]),
                                                                   metadata=alice)]  # fmt: skip
        path = out_dir / (chunks[0].file_name or f"{ids[0]}.html")
        path.write_bytes(b"".join(chunk.html_chunk for chunk in chunks))
        step(f"the {TEMPLATES[0]} report (self-contained HTML, open it in a browser): {path}")
    return codes
