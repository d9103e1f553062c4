"""CalculateFactors with an idempotency key: the same (caller, key) returns the job it first started and queues
nothing more, concurrently too; another caller's same key is their own job."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from zquant.factor.v1 import calculation_pb2 as calc_pb
from zquant.factor.v1 import factor_pb2 as pb
from zquant_kit.testing import create_user, expect_error

pytestmark = pytest.mark.contract


async def _rsi_factor(calc, metadata, name: str) -> str:
    created = await calc.factors.CreateFactorDefinition(
        pb.CreateFactorDefinitionRequest(
            factor_name=name,
            cn_name=name,
            en_name=name,
            column_name=name,
            kind=pb.FACTOR_KIND_BUILTIN_INDICATOR,
        ),
        metadata=metadata,
    )
    await calc.factors.CreateFactorModel(
        pb.CreateFactorModelRequest(factor_id=created.definition.id, model_code="rsi"), metadata=metadata
    )
    return created.definition.id


async def _calculate(calc, metadata, factor_id: str, key: str) -> list[calc_pb.CalculateFactorsResponse]:
    request = calc_pb.CalculateFactorsRequest(
        factor_ids=[factor_id], start_date=calc.start, end_date=calc.end, idempotency_key=key
    )
    return [reply async for reply in calc.calculations.CalculateFactors(request, metadata=metadata)]


async def _jobs(calc, metadata) -> list[calc_pb.Calculation]:
    listed = await calc.calculations.ListCalculations(calc_pb.ListCalculationsRequest(), metadata=metadata)
    return list(listed.calculations)


async def test_the_same_key_calculates_once_per_caller_and_a_malformed_key_names_the_field(calc):
    factor_id = await _rsi_factor(calc, calc.researcher, "rsi_rita")
    first, second = await asyncio.gather(
        _calculate(calc, calc.researcher, factor_id, "run-1"),
        _calculate(calc, calc.researcher, factor_id, "run-1"),
    )
    assert first[0].job_id == second[0].job_id
    assert first[-1].state == second[-1].state == "succeeded"
    again = await _calculate(calc, calc.researcher, factor_id, "run-1")
    assert [(r.job_id, r.state, r.percent) for r in again] == [(first[0].job_id, "succeeded", 100.0)]
    [job] = await _jobs(calc, calc.researcher)
    assert job.job_id == first[0].job_id and job.values_written > 0

    other = await _calculate(calc, calc.researcher, factor_id, "run-2")
    assert other[0].job_id != first[0].job_id and len(await _jobs(calc, calc.researcher)) == 2

    _, sam = await create_user(calc.client.channel("identity"), "sam", role="researcher")
    sams_factor = await _rsi_factor(calc, sam, "rsi_sam")
    sams = await _calculate(calc, sam, sams_factor, "run-1")
    assert sams[0].job_id != first[0].job_id and sams[-1].state == "succeeded"
    assert [j.job_id for j in await _jobs(calc, sam)] == [sams[0].job_id]

    request = calc_pb.CalculateFactorsRequest(
        factor_ids=["f"], start_date=calc.start, end_date=calc.end, idempotency_key="no spaces/please"
    )
    stream = calc.calculations.CalculateFactors(request, metadata=calc.researcher)
    found = await expect_error(stream.read(), grpc.StatusCode.INVALID_ARGUMENT)
    assert found.fields == ["idempotency_key"]
