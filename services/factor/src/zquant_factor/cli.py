"""`zquant factor …`: list and define factors, calculate them with a progress bar, export values to CSV.

Every command is a gRPC call to the factor service (`ZQUANT_FACTOR_ADDRESS`, default where `zquant serve`
puts it) with the caller's access token: `--token`, else `$ZQUANT_TOKEN` (`export ZQUANT_TOKEN=$(zquant login
alice)`). A factor is named by its factor_name or its id. A command-line client runs no event loop of its own,
so it uses grpc's blocking API.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO, cast

import grpc
import numpy as np

from zquant.factor.v1 import calculation_pb2 as calc_pb
from zquant.factor.v1 import calculation_pb2_grpc, factor_pb2_grpc
from zquant.factor.v1 import factor_pb2 as pb
from zquant_kit.client_cli import (
    Metadata,
    UsageError,
    add_client_group,
    bearer_metadata,
    progress_bar,
    show_progress,
)
from zquant_kit.grpc.panel_codec import PanelResponse, decode_panel, format_days

PAGE = 500
KINDS = {pb.FACTOR_KIND_BUILTIN_INDICATOR: "builtin", pb.FACTOR_KIND_CUSTOM_EXPRESSION: "expression"}
VISIBILITIES = {pb.VISIBILITY_PRIVATE: "private", pb.VISIBILITY_SHARED: "shared"}
ADJUSTS = {
    "hfq": calc_pb.PRICE_ADJUST_HFQ,
    "qfq": calc_pb.PRICE_ADJUST_QFQ,
    "none": calc_pb.PRICE_ADJUST_NONE,
}


def _definitions(
    stub: factor_pb2_grpc.FactorServiceStub, metadata: Metadata
) -> Iterator[pb.FactorDefinition]:
    token = ""
    while True:
        page = stub.ListFactorDefinitions(
            pb.ListFactorDefinitionsRequest(page_size=PAGE, page_token=token), metadata=metadata
        )
        yield from page.definitions
        token = page.next_page_token
        if not token:
            return


def find_factor(
    stub: factor_pb2_grpc.FactorServiceStub, metadata: Metadata, name: str
) -> pb.FactorDefinition:
    for definition in _definitions(stub, metadata):
        if name in (definition.factor_name, definition.id):
            return definition
    raise UsageError(f"no factor {name!r} that you can see (zquant factor list)")


def parse_params(pairs: list[str]) -> list[pb.ParamValue]:
    """`name=value` pairs: an integer, a number, or true/false."""
    params = []
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--param must look like name=value, not {pair!r}")
        if text.lower() in ("true", "false"):
            params.append(pb.ParamValue(name=name, bool_value=text.lower() == "true"))
            continue
        try:
            params.append(pb.ParamValue(name=name, int_value=int(text)))
        except ValueError:
            try:
                params.append(pb.ParamValue(name=name, double_value=float(text)))
            except ValueError:
                raise UsageError(f"--param {name}: {text!r} is not a number") from None
    return params


def list_factors(args: argparse.Namespace, channel: grpc.Channel, out: TextIO) -> None:
    stub = factor_pb2_grpc.FactorServiceStub(channel)
    metadata = bearer_metadata(args)
    print(
        f"{'factor_name':<24} {'kind':<10} {'column':<20} {'visibility':<10} {'owner':<12} expression",
        file=out,
    )
    for d in _definitions(stub, metadata):
        print(
            f"{d.factor_name:<24} {KINDS.get(d.kind, '?'):<10} {d.column_name:<20} "
            f"{VISIBILITIES.get(d.visibility, '?'):<10} {d.owner_display:<12} {d.expression}",
            file=out,
        )


def define_factor(args: argparse.Namespace, channel: grpc.Channel, out: TextIO) -> None:
    if bool(args.expression) == bool(args.model):
        raise UsageError("give either --model (a built-in calculator) or --expression")
    stub = factor_pb2_grpc.FactorServiceStub(channel)
    metadata = bearer_metadata(args)
    params = parse_params(args.param)
    kind = pb.FACTOR_KIND_CUSTOM_EXPRESSION if args.expression else pb.FACTOR_KIND_BUILTIN_INDICATOR
    created = stub.CreateFactorDefinition(
        pb.CreateFactorDefinitionRequest(
            factor_name=args.name, cn_name=args.cn_name or args.name, en_name=args.en_name or args.name,
            column_name=args.column or args.name, description=args.description, kind=kind,
            expression=args.expression, visibility=pb.VISIBILITY_SHARED if args.shared else pb.VISIBILITY_PRIVATE,
        ),
        metadata=metadata,
    )  # fmt: skip
    definition = created.definition
    print(f"factor {definition.factor_name} ({definition.id})", file=out)
    if args.model:
        model = stub.CreateFactorModel(
            pb.CreateFactorModelRequest(factor_id=definition.id, model_code=args.model, params=params),
            metadata=metadata,
        ).model
        shown = ", ".join(
            f"{p.name}={getattr(p, p.WhichOneof('value') or 'int_value')}" for p in model.params
        )
        print(f"model {model.model_code}({shown}) ({model.id}), default", file=out)


def calculate_factors(args: argparse.Namespace, channel: grpc.Channel, out: TextIO) -> int:
    factors = factor_pb2_grpc.FactorServiceStub(channel)
    metadata = bearer_metadata(args)
    ids = [find_factor(factors, metadata, name).id for name in args.factors]
    mode = calc_pb.CALCULATION_MODE_INCREMENTAL if args.incremental else calc_pb.CALCULATION_MODE_FULL
    request = calc_pb.CalculateFactorsRequest(
        factor_ids=ids, ts_codes=_codes(args.codes), start_date=args.start, end_date=args.end, mode=mode
    )
    replies = calculation_pb2_grpc.FactorCalculationServiceStub(channel).CalculateFactors(
        request, metadata=metadata
    )
    last = show_progress(replies, _progress_line, out, args.quiet)
    if last is None:
        return 1
    print(f"job {last.job_id} {last.state}", file=out)
    return 0 if last.state == "succeeded" else 1


def _progress_line(reply: calc_pb.CalculateFactorsResponse) -> str:
    return f"{progress_bar(reply.percent)} {reply.percent:5.1f}% {reply.state:<9} {reply.message}"


def _codes(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip()]


def export_values(args: argparse.Namespace, channel: grpc.Channel, out: TextIO) -> None:
    """Long CSV: one row per (trade_date, ts_code) with one column per stored field; empty for NaN."""
    factors = factor_pb2_grpc.FactorServiceStub(channel)
    metadata = bearer_metadata(args)
    definition = find_factor(factors, metadata, args.factor)
    request = calc_pb.GetFactorValuesRequest(
        factor_id=definition.id, ts_codes=_codes(args.codes), start_date=args.start, end_date=args.end,
        adjust=ADJUSTS[args.adjust],
    )  # fmt: skip
    stream = calculation_pb2_grpc.FactorCalculationServiceStub(channel).GetFactorValues(
        request, metadata=metadata
    )
    codes, dates, values = decode_panel(cast(Iterable[PanelResponse], stream))
    if not args.output:
        _write_csv(out, codes, dates, values)
        return
    with open(args.output, "w", newline="", encoding="utf-8") as target:
        _write_csv(target, codes, dates, values)
    print(f"wrote {len(codes) * dates.size} rows to {args.output}", file=sys.stderr)


def _write_csv(
    target: TextIO, codes: Sequence[str], dates: np.ndarray, values: dict[str, np.ndarray]
) -> None:
    fields = list(values)
    writer = csv.writer(target)
    writer.writerow(["trade_date", "ts_code", *fields])
    for d, day in enumerate(format_days(dates)):
        for c, code in enumerate(codes):
            cells = [float(values[name][c, d]) for name in fields]
            writer.writerow([day, code, *("" if math.isnan(v) else repr(v) for v in cells)])


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands = add_client_group(subparsers, "factor", help="factors: list, define, calculate, export values")
    commands.add_parser("list", help="the factors you can see").set_defaults(command=list_factors)
    define = commands.add_parser("define", help="a built-in factor (--model) or a custom expression")
    define.add_argument("name", help="factor_name (also the column name unless --column)")
    define.add_argument(
        "--model", default="", help="calculator: ma, ema, macd, boll, atr, kdj, rsi, cci, obv, …"
    )
    define.add_argument(
        "--param", action="append", default=[], help="calculator parameter name=value (repeatable)"
    )
    define.add_argument("--expression", default="", help="e.g. 'rank(close / ma(close, 20))'")
    define.add_argument("--column", default="")
    define.add_argument("--cn-name", default="")
    define.add_argument("--en-name", default="")
    define.add_argument("--description", default="")
    define.add_argument("--shared", action="store_true", help="visible to every user")
    define.set_defaults(command=define_factor)
    calculate = commands.add_parser("calculate", help="run a calculation job, with a progress bar")
    calculate.add_argument("factors", nargs="+", help="factor names or ids")
    calculate.add_argument("--start", required=True, help="YYYYMMDD")
    calculate.add_argument("--end", required=True, help="YYYYMMDD")
    calculate.add_argument("--codes", default="", help="comma-separated ts_codes; default every listed stock")
    calculate.add_argument("--incremental", action="store_true", help="only dates not stored yet")
    calculate.add_argument("--quiet", action="store_true", help="no progress lines")
    calculate.set_defaults(command=calculate_factors)
    export = commands.add_parser("export", help="stored values to CSV (stdout unless --output)")
    export.add_argument("factor", help="factor name or id")
    export.add_argument("--codes", default="", help="comma-separated ts_codes; default every stored code")
    export.add_argument("--start", required=True, help="YYYYMMDD")
    export.add_argument("--end", required=True, help="YYYYMMDD")
    export.add_argument("--adjust", choices=sorted(ADJUSTS), default="hfq")
    export.add_argument("--output", "-o", default="")
    export.set_defaults(command=export_values)
