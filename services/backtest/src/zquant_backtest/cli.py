"""`zquant backtest run strategy.py --start … --end … --universe …`: submits, shows a progress bar, prints the
metrics and writes the HTML report.

A gRPC client of the backtest service (`ZQUANT_BACKTEST_ADDRESS`, default where `zquant serve` puts it) with
the caller's access token: `--token`, else `$ZQUANT_TOKEN`. It runs no event loop, so it uses grpc's blocking
API. The strategy's params schema is read from `--schema` (a JSON file), or a template is named instead of a file.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TextIO

import grpc

from zquant.backtest.v1 import backtest_pb2 as pb
from zquant.backtest.v1 import backtest_pb2_grpc
from zquant_kit.settings import Settings

TIMINGS = {"open": pb.FILL_TIMING_OPEN, "close": pb.FILL_TIMING_CLOSE, "vwap": pb.FILL_TIMING_VWAP}
SHOWN_METRICS = ("total_return", "annual_return", "sharpe", "max_drawdown", "annual_volatility", "turnover")


class UsageError(Exception):
    """A bad argument: one line on stderr, exit status 2."""


def _metadata(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    token = args.token or os.environ.get("ZQUANT_TOKEN", "")
    if not token:
        raise UsageError("no access token: pass --token or export ZQUANT_TOKEN=$(zquant login <user>)")
    return (("authorization", f"Bearer {token}"),)


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


def _bar(percent: float, width: int = 30) -> str:
    filled = int(width * percent / 100)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _watch(stub, task_id: str, metadata, out: TextIO, quiet: bool) -> pb.WatchBacktestResponse:
    live = out.isatty() and not quiet
    last = pb.WatchBacktestResponse(task_id=task_id)
    for reply in stub.WatchBacktest(pb.WatchBacktestRequest(task_id=task_id), metadata=metadata):
        last = reply
        state = pb.TaskState.Name(reply.state).removeprefix("TASK_STATE_").lower()
        line = f"{_bar(reply.percent)} {reply.percent:5.1f}% {state:<9} {reply.current_date} {reply.message}"
        if live:
            print("\r" + line.ljust(100), end="", file=out, flush=True)
        elif not quiet:
            print(line, file=out, flush=True)
    if live:
        print(file=out)
    return last


def _number(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.6g}"


def run_backtest(args: argparse.Namespace, channel: grpc.Channel, out: TextIO) -> int:
    stub = backtest_pb2_grpc.BacktestServiceStub(channel)
    metadata = _metadata(args)
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


def _run(args: argparse.Namespace, settings: Settings) -> None:
    address = args.address or settings.address("backtest")
    try:
        with grpc.insecure_channel(address) as channel:
            status = run_backtest(args, channel, sys.stdout)
    except UsageError as exc:
        print(f"zquant backtest: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except grpc.RpcError as error:
        print(f"ERROR {error.code().name}: {error.details()}", file=sys.stderr)
        raise SystemExit(1) from None
    raise SystemExit(status)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backtest = subparsers.add_parser("backtest", help="backtests: run a strategy, with a progress bar")
    backtest.add_argument("--address", default="", help="host:port of the backtest service")
    backtest.add_argument("--token", default="", help="access token (default: $ZQUANT_TOKEN)")
    commands = backtest.add_subparsers(dest="backtest_command", required=True)
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
    backtest.set_defaults(handler=_run)
