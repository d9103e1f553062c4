"""`zquant backtest run` against a real server: submits a file, shows progress, prints the metrics, writes the
report; a refused config exits 1 naming the field."""

from __future__ import annotations

import argparse
import asyncio
import io

import grpc
import pytest

from zquant_backtest.cli import register, run_backtest

pytestmark = pytest.mark.contract

CODE = "def handle_bar(context, bar):\n    pass\n"


def _args(token: str, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["backtest", "--token", token, "run", *argv])


def _run_blocking(address: str, args: argparse.Namespace) -> tuple[int, str]:
    out = io.StringIO()
    with grpc.insecure_channel(address) as channel:
        status = run_backtest(args, channel, out)
    return status, out.getvalue()


async def test_run_prints_metrics_and_writes_the_report(backtest, tmp_path):
    _, alice = await backtest.user("alice")
    token = dict(alice)["authorization"].removeprefix("Bearer ")
    strategy = tmp_path / "strategy.py"
    strategy.write_text(CODE)
    report = tmp_path / "out.html"
    address = backtest.client.stack.address("backtest")
    args = _args(token, str(strategy), "--start", "20240102", "--end", "20240329", "--universe", "600000.SH",
                 "--report", str(report))  # fmt: skip
    status, printed = await asyncio.to_thread(_run_blocking, address, args)
    assert status == 0, printed
    assert "sharpe" in printed and "succeeded" in printed and f"report {report}" in printed
    assert report.read_bytes().startswith(b"<!doctype html>")
    bad = _args(token, "--template", "buy_and_hold", "--start", "20240102", "--end", "20240329")
    with pytest.raises(grpc.RpcError) as caught:
        await asyncio.to_thread(_run_blocking, address, bad)
    assert (
        caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        and "config.ts_codes" in caught.value.details()
    )
