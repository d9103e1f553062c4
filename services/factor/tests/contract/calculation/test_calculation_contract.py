"""FactorCalculationService through a real all-in-one stack (identity, marketdata with the sample market synced,
factor): a MACD factor calculated as a job with streamed progress, its stored panel, indicators on the fly, a
factor analysis, and bad input refused with the field named."""

from __future__ import annotations

import math

import grpc
import numpy as np
import pytest

from zquant.factor.v1 import calculation_pb2 as calc_pb
from zquant.factor.v1 import factor_pb2 as pb
from zquant_kit.grpc.panel_codec import read_panel
from zquant_kit.testing import expect_error

pytestmark = pytest.mark.contract
C = grpc.StatusCode


async def macd_factor(calc) -> str:
    created = await calc.factors.CreateFactorDefinition(
        pb.CreateFactorDefinitionRequest(
            factor_name="macd_fast", cn_name="快MACD", en_name="fast MACD", column_name="macd_fast",
            description="MACD(10, 20, 5)", kind=pb.FACTOR_KIND_BUILTIN_INDICATOR,
        ),
        metadata=calc.researcher,
    )  # fmt: skip
    params = [pb.ParamValue(name="fast", int_value=10), pb.ParamValue(name="slow", int_value=20),
              pb.ParamValue(name="signal", int_value=5)]  # fmt: skip
    await calc.factors.CreateFactorModel(
        pb.CreateFactorModelRequest(factor_id=created.definition.id, model_code="macd", params=params),
        metadata=calc.researcher,
    )
    return created.definition.id


async def calculate(calc, factor_id: str) -> list[calc_pb.CalculateFactorsResponse]:
    request = calc_pb.CalculateFactorsRequest(
        factor_ids=[factor_id], start_date=calc.start, end_date=calc.end
    )
    return [reply async for reply in calc.calculations.CalculateFactors(request, metadata=calc.researcher)]


async def test_a_macd_factor_is_calculated_stored_read_and_analysed(calc):
    factor_id = await macd_factor(calc)
    replies = await calculate(calc, factor_id)
    assert replies[0].state == "queued" and replies[-1].state == "succeeded", replies
    percents = [reply.percent for reply in replies]
    assert percents == sorted(percents) and percents[-1] == 100.0
    job = await calc.calculations.GetCalculation(
        calc_pb.GetCalculationRequest(job_id=replies[0].job_id), metadata=calc.researcher
    )
    assert job.calculation.state == "succeeded" and job.calculation.values_written > 0
    listed = await calc.calculations.ListCalculations(
        calc_pb.ListCalculationsRequest(), metadata=calc.researcher
    )
    assert [c.job_id for c in listed.calculations] == [replies[0].job_id]

    stored = calc.calculations.GetFactorValues(
        calc_pb.GetFactorValuesRequest(factor_id=factor_id, start_date=calc.start, end_date=calc.end),
        metadata=calc.researcher,
    )
    codes, dates, values = await read_panel(stored)
    assert set(values) == {"dif", "dea", "macd"} and len(codes) > 10 and dates.size > 60
    macd, dif, dea = values["macd"], values["dif"], values["dea"]
    finite = np.isfinite(macd)
    assert finite.mean() > 0.5
    assert np.allclose(macd[finite], 2 * (dif[finite] - dea[finite]), rtol=0, atol=1e-9)

    indicators = calc.calculations.ComputeIndicators(
        calc_pb.ComputeIndicatorsRequest(
            ts_codes=list(codes[:3]), start_date=calc.start, end_date=calc.end, adjust=calc_pb.PRICE_ADJUST_HFQ,
            indicators=[calc_pb.IndicatorRequest(indicator="macd", params=[
                calc_pb.IndicatorParam(name="fast", value=10), calc_pb.IndicatorParam(name="slow", value=20),
                calc_pb.IndicatorParam(name="signal", value=5),
            ]), calc_pb.IndicatorRequest(indicator="rsi")],
        ),
        metadata=calc.researcher,
    )  # fmt: skip
    on_the_fly_codes, on_the_fly_dates, on_the_fly = await read_panel(indicators)
    assert {"macd.macd", "rsi.rsi"} <= set(on_the_fly) and list(on_the_fly_codes) == list(codes[:3])
    same_days = np.isin(dates, on_the_fly_dates)
    assert np.allclose(on_the_fly["macd.macd"], macd[:3][:, same_days], equal_nan=True, atol=1e-9)

    analysis = await calc.calculations.AnalyzeFactor(
        calc_pb.AnalyzeFactorRequest(
            factor_id=factor_id, column="macd", start_date=calc.start, end_date=calc.end, horizons=[1, 5]
        ),
        metadata=calc.researcher,
    )
    assert [h.horizon for h in analysis.horizons] == [1, 5] and analysis.codes == len(codes)
    for horizon in analysis.horizons:
        assert -1 <= horizon.ic_mean <= 1 and -1 <= horizon.rank_ic_mean <= 1 and math.isfinite(horizon.icir)
        assert len(horizon.quantile_mean_returns) == 5


async def test_bad_input_is_refused_with_the_field(calc):
    factor_id = await macd_factor(calc)
    bad_range = calc_pb.CalculateFactorsRequest(
        factor_ids=[factor_id], start_date=calc.end, end_date=calc.start
    )
    found = await expect_error(
        calc.calculations.CalculateFactors(bad_range, metadata=calc.researcher).read(), C.INVALID_ARGUMENT
    )
    assert "end_date" in found.fields, found
    found = await expect_error(
        calc.calculations.AnalyzeFactor(
            calc_pb.AnalyzeFactorRequest(
                factor_id=factor_id, column="nope", start_date=calc.start, end_date=calc.end
            ),
            metadata=calc.researcher,
        ),
        C.INVALID_ARGUMENT,
    )
    assert "column" in found.fields, found
    unknown = calc_pb.IndicatorRequest(
        indicator="macd", params=[calc_pb.IndicatorParam(name="fast", value=0.5)]
    )
    found = await expect_error(
        calc.calculations.ComputeIndicators(
            calc_pb.ComputeIndicatorsRequest(
                ts_codes=["600000.SH"], start_date=calc.start, end_date=calc.end, indicators=[unknown]
            ),
            metadata=calc.researcher,
        ).read(),
        C.INVALID_ARGUMENT,
    )
    assert found.fields == ["indicators[0].params.fast"], found
