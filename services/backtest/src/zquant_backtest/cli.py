"""`zquant backtest run strategy.py --start … --end … --universe …`: submits, shows a progress bar, prints the
metrics and writes the HTML report.

A gRPC client of the backtest service (`ZQUANT_BACKTEST_ADDRESS`, default where `zquant serve` puts it) with
the caller's access token: `--token`, else `$ZQUANT_TOKEN`. It runs no event loop, so it uses grpc's blocking
API. The strategy's params schema is read from `--schema` (a JSON file), or a template is named instead of a file.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TextIO

import grpc

from zquant.backtest.v1 import backtest_pb2 as pb
from zquant.backtest.v1 import backtest_pb2_grpc
from zquant_kit.client_cli import UsageError, add_client_group, bearer_metadata, progress_bar, show_progress

TIMINGS = {"open": pb.FILL_TIMING_OPEN, "close": pb.FILL_TIMING_CLOSE, "vwap": pb.FILL_TIMING_VWAP}
SHOWN_METRICS = ("total_return", "annual_return", "sharpe", "max_drawdown", "annual_volatility", "turnover")


def _text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def submit_request(args: argparse.Namespace) -> pb.SubmitBacktestRequest:
    config = pb.BacktestConfig(
        ts_codes=[code.strip() for code in args.universe.split(",") if code.strip()],
        index_code=args.index, start_date=args.start, end_date=args.end, initial_cash=args.cash,
        benchmark=args.benchmark, fill_timing=TIMINGS[args.timing], params_json=args.params,
    )  # fmt: skip
    if bool(args.strategy) == bool(args.template):
        raise UsageError("name a strategy file or --template, not both")
    if args.template:
        return pb.SubmitBacktestRequest(template_name=args.template, config=config)
    schema = _text(args.schema) if args.schema else ""
    return pb.SubmitBacktestRequest(code=_text(args.strategy), params_schema_json=schema, config=config)


def _progress_line(reply: pb.WatchBacktestResponse) -> str:
    state = pb.TaskState.Name(reply.state).removeprefix("TASK_STATE_").lower()
    return f"{progress_bar(reply.percent)} {reply.percent:5.1f}% {state:<9} {reply.current_date} {reply.message}"


def _watch(stub, task_id: str, metadata, out: TextIO, quiet: bool) -> pb.WatchBacktestResponse:
    replies = stub.WatchBacktest(pb.WatchBacktestRequest(task_id=task_id), metadata=metadata)
    last = show_progress(replies, _progress_line, out, quiet)
    return pb.WatchBacktestResponse(task_id=task_id) if last is None else last


def _number(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.6g}"


def run_backtest(args: argparse.Namespace, channel: grpc.Channel, out: TextIO) -> int:
    stub = backtest_pb2_grpc.BacktestServiceStub(channel)
    metadata = bearer_metadata(args)
    task = stub.SubmitBacktest(submit_request(args), metadata=metadata).task
    print(f"task {task.task_id} queued", file=out, flush=True)
    last = _watch(stub, task.task_id, metadata, out, args.quiet)
    if last.state != pb.TASK_STATE_SUCCEEDED:
        print(f"task {task.task_id} {pb.TaskState.Name(last.state)}: {last.message}", file=out)
        return 1
    result = stub.GetBacktestResult(
        pb.GetBacktestResultRequest(task_id=task.task_id, max_rows=1), metadata=metadata
    )
    for name in SHOWN_METRICS:
        print(f"{name:<18} {_number(getattr(result.metrics, name))}", file=out)
    print(f"{'trades':<18} {result.total_fills}  refused {result.total_refusals}", file=out)
    report = b"".join(
        part.html_chunk
        for part in stub.GetBacktestReport(
            pb.GetBacktestReportRequest(task_id=task.task_id), metadata=metadata
        )
    )
    target = Path(args.report or f"backtest-{task.task_id}.html")
    target.write_bytes(report)
    print(f"report {target}", file=out)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands = add_client_group(subparsers, "backtest", help="backtests: run a strategy, with a progress bar")
    run = commands.add_parser("run", help="submit, watch, print the metrics, write the HTML report")
    run.add_argument("strategy", nargs="?", default="", help="the strategy's Python file")
    run.add_argument("--template", default="", help="a template name instead of a file (ListTemplates)")
    run.add_argument("--schema", default="", help="a JSON file: the params schema of the strategy file")
    run.add_argument("--start", required=True, help="YYYYMMDD")
    run.add_argument("--end", required=True, help="YYYYMMDD")
    run.add_argument("--universe", default="", help="comma-separated ts_codes")
    run.add_argument("--index", default="", help="an index universe instead, e.g. 000300.SH")
    run.add_argument("--cash", type=float, default=1_000_000.0, help="initial cash (CNY)")
    run.add_argument("--benchmark", default="", help="an index or a stock")
    run.add_argument("--params", default="", help="the params as a JSON object")
    run.add_argument("--timing", choices=sorted(TIMINGS), default="open", help="when orders fill, next day")
    run.add_argument("--report", default="", help="where to write the HTML (default backtest-<task>.html)")
    run.add_argument("--quiet", action="store_true", help="no progress lines")
    run.set_defaults(command=run_backtest)
