"""`zquant factor …` against the real stack: define a built-in and an expression factor, list them, calculate
one with progress lines, export its values to CSV (the commands run in a thread: the CLI's gRPC is blocking)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io

import grpc
import pytest

from zquant_factor import cli

pytestmark = pytest.mark.contract


def parse(*words: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="top"))
    return parser.parse_args(["factor", *words])


async def run(calc, *words: str) -> tuple[str, object]:
    token = dict(calc.researcher)["authorization"].removeprefix("Bearer ")
    args = parse("--token", token, *words)
    out = io.StringIO()

    def call() -> object:
        with grpc.insecure_channel(calc.client.stack.address("factor")) as channel:
            return args.command(args, channel, out)

    status = await asyncio.to_thread(call)
    return out.getvalue(), status


async def test_define_list_calculate_export(calc):
    shown, _ = await run(
        calc, "define", "macd_cli", "--model", "macd", "--param", "fast=10", "--param", "slow=20"
    )
    assert "model macd(" in shown and "fast=10" in shown and "slow=20" in shown
    await run(calc, "define", "close_rank", "--expression", "rank(close / ma(close, 5))")
    listed, _ = await run(calc, "list")
    rows = {line.split()[0]: line.split()[1] for line in listed.splitlines()[1:]}
    assert rows == {"close_rank": "expression", "macd_cli": "builtin"}
    progress, status = await run(calc, "calculate", "close_rank", "--start", calc.start, "--end", calc.end)
    assert status == 0 and "100.0% succeeded" in progress and progress.splitlines()[-1].endswith("succeeded")
    exported, _ = await run(calc, "export", "close_rank", "--start", calc.start, "--end", calc.end)
    table = list(csv.reader(io.StringIO(exported)))
    assert table[0] == ["trade_date", "ts_code", "close_rank"] and len(table) > 100
    ranks = [float(row[2]) for row in table[1:] if row[2]]
    assert ranks and all(0 <= r <= 1 for r in ranks)


async def test_unknown_factor_and_bad_params_are_usage_errors(calc):
    with pytest.raises(cli.UsageError, match="no factor 'nope'"):
        await run(calc, "export", "nope", "--start", calc.start, "--end", calc.end)
    with pytest.raises(cli.UsageError, match="name=value"):
        await run(calc, "define", "x", "--model", "ma", "--param", "n")
