"""The demo's factor section, on the synced sample market, as alice (researcher) over gRPC: the indicator set
(MACD, KDJ, RSI) calculated as one job, a custom expression defined and calculated, and its factor analysis."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterable
from typing import cast

from zquant.factor.v1 import calculation_pb2 as calc_pb
from zquant.factor.v1 import calculation_pb2_grpc, factor_pb2_grpc
from zquant.factor.v1 import factor_pb2 as pb
from zquant_demo.output import step
from zquant_kit.client_cli import progress_bar
from zquant_kit.grpc.client import insecure_channel
from zquant_kit.grpc.panel_codec import PanelResponse, read_panel

INDICATORS: tuple[tuple[str, str, dict[str, int]], ...] = (("macd", "MACD(12, 26, 9)", {}), ("kdj", "KDJ(9, 3, 3)", {}), ("rsi6", "RSI(6)", {"n": 6}))
EXPRESSION = "rank(close / ma(close, 20))"
HORIZONS = (1, 5, 10, 20)


def _definition(name: str, description: str, expression: str = "") -> pb.CreateFactorDefinitionRequest:
    kind = pb.FACTOR_KIND_CUSTOM_EXPRESSION if expression else pb.FACTOR_KIND_BUILTIN_INDICATOR
    return pb.CreateFactorDefinitionRequest(
        factor_name=name, cn_name=name, en_name=name, column_name=name, description=description, kind=kind,
        expression=expression,
    )  # fmt: skip


async def _calculate(jobs, factor_ids: list[str], start: str, end: str, metadata: list) -> None:
    request = calc_pb.CalculateFactorsRequest(factor_ids=factor_ids, start_date=start, end_date=end)
    shown = (-25.0, "")
    last = None
    async for reply in jobs.CalculateFactors(request, metadata=metadata):
        last = reply
        if reply.percent - shown[0] >= 25 or reply.state != shown[1]:  # a log: a line per state or 25 %
            print(f"    {progress_bar(reply.percent)} {reply.percent:5.1f}% {reply.state:<9} {reply.message}", flush=True)
            shown = (reply.percent, reply.state)
    if last is None or last.state != "succeeded":
        raise SystemExit(f"demo failed: calculation ended {last.state if last else 'without progress'}")
    job = await jobs.GetCalculation(calc_pb.GetCalculationRequest(job_id=last.job_id), metadata=metadata)
    print(f"    job {last.job_id}: {job.calculation.values_written:,} values stored")


def _number(value: float, width: int = 8) -> str:
    return f"{value:>{width}.4f}" if math.isfinite(value) else f"{'n/a':>{width}}"


async def factor_tour(address: str, alice: list, start: str, end: str) -> None:
    async with insecure_channel(address) as channel:
        factors = factor_pb2_grpc.FactorServiceStub(channel)
        jobs = calculation_pb2_grpc.FactorCalculationServiceStub(channel)

        step(f"alice defines the indicator set and calculates it as one job, {start}..{end}")
        ids = []
        for code, description, params in INDICATORS:
            made = await factors.CreateFactorDefinition(_definition(code, description), metadata=alice)
            values = [pb.ParamValue(name=name, int_value=value) for name, value in params.items()]
            model = code.rstrip("0123456789")
            await factors.CreateFactorModel(
                pb.CreateFactorModelRequest(factor_id=made.definition.id, model_code=model, params=values),
                metadata=alice,
            )
            ids.append(made.definition.id)
        await _calculate(jobs, ids, start, end, alice)
        stored = jobs.GetFactorValues(
            calc_pb.GetFactorValuesRequest(factor_id=ids[0], start_date=end, end_date=end, codes_per_chunk=3),
            metadata=alice,
        )
        codes, _, panel = await read_panel(cast(AsyncIterable[PanelResponse], stored))
        for i, code in enumerate(codes[:3]):
            cells = "  ".join(f"{name} {panel[name][i, -1]:8.4f}" for name in ("dif", "dea", "macd"))
            print(f"    {code} on {end} (hfq): {cells}")

        step(f"alice defines a custom expression and calculates it: {EXPRESSION}")
        made = await factors.CreateFactorDefinition(
            _definition("close_vs_ma20", "close over its 20-day mean, ranked", EXPRESSION), metadata=alice
        )
        await _calculate(jobs, [made.definition.id], start, end, alice)

        step("factor analysis of the expression: IC, ICIR and quantile mean forward returns (5 quantiles)")
        analysis = await jobs.AnalyzeFactor(
            calc_pb.AnalyzeFactorRequest(
                factor_id=made.definition.id, start_date=start, end_date=end, horizons=list(HORIZONS)
            ),
            metadata=alice,
        )
        print(f"    {analysis.codes} stocks × {analysis.dates} days, turnover {_number(analysis.turnover, 0)},"
              f" rank autocorrelation {_number(analysis.autocorrelation, 0)}")  # fmt: skip
        quantiles = "  ".join(f"{f'Q{q + 1}':>8}" for q in range(5))
        print(f"    {'horizon':>7} {'IC':>8} {'ICIR':>8} {'RankIC':>8} {'t':>8}  {quantiles}  {'Q5-Q1':>8}")
        for h in analysis.horizons:
            means = "  ".join(_number(v) for v in h.quantile_mean_returns)
            print(
                f"    {h.horizon:>6}d {_number(h.ic_mean)} {_number(h.icir)} {_number(h.rank_ic_mean)}"
                f" {_number(h.ic_t_stat)}  {means}  {_number(h.long_short_spread)}"
            )


async def factors_left(app, user_id: str, *, attempts: int = 200) -> int:
    """Waits until the factor service (in-process) has removed the deleted user's private factors; how many
    are left when it gives up."""
    left = -1
    for _ in range(attempts):
        async with app.definition_components.unit_of_work() as uow:
            left = len(await uow.definitions.list_owned(user_id))
        if not left:
            return 0
        await asyncio.sleep(0.05)
    return left
