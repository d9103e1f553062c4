"""The servicer over the use cases and fakes: proto in, proto and panel-codec streams out."""

from __future__ import annotations

import numpy as np
import pytest

from services.factor.tests.unit.calculation.fakes import InlinePool
from services.factor.tests.unit.calculation.world import BANKS, BOB, CalcWorld, _day
from zquant.factor.v1 import calculation_pb2 as pb
from zquant_factor.adapters.grpc.calculation_servicer import FactorCalculationServicer
from zquant_factor.application.analysis_use_case import FactorAnalysisUseCase
from zquant_factor.application.calculation_jobs import JOB_KIND
from zquant_factor.application.panel_reads import PanelReads
from zquant_kit import principal
from zquant_kit.errors import Unauthenticated
from zquant_kit.grpc.panel_codec import decode_panel

pytestmark = pytest.mark.unit


class Context:
    def __init__(self, token: str = "token") -> None:
        self._token = token

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self._token}"),) if self._token else ()


@pytest.fixture
def as_bob():
    token = principal.bind(BOB)
    yield
    principal.reset(token)


def _servicer(world: CalcWorld) -> FactorCalculationServicer:
    uow, pool = world.definitions._uow, InlinePool()
    return FactorCalculationServicer(
        world.jobs,
        world.queries,
        PanelReads(uow, world.market, world.values, pool),
        FactorAnalysisUseCase(uow, world.market, world.values, pool),
        world.queue,
    )


async def _collect(stream) -> list:
    return [item async for item in stream]


@pytest.mark.usefixtures("as_bob")
async def test_calculate_streams_progress_then_values_stream_in_the_panel_codec() -> None:
    import asyncio

    world = CalcWorld()
    factor_id = world.add_factor("macd", ("m-macd", "macd", {}))
    servicer = _servicer(world)
    server = asyncio.create_task(world.queue.serve(JOB_KIND, world.jobs.handle))
    request = pb.CalculateFactorsRequest(factor_ids=[factor_id], start_date="20230103", end_date="20230829")
    progress = await _collect(servicer.CalculateFactors(request, Context()))
    server.cancel()
    assert progress[0].state == "queued" and progress[-1].state == "succeeded"
    assert any(0 < p.percent < 100 for p in progress)
    listed = await servicer.ListCalculations(pb.ListCalculationsRequest(), Context())
    assert [c.state for c in listed.calculations] == ["succeeded"] and listed.calculations[0].mode == 1

    values = pb.GetFactorValuesRequest(factor_id=factor_id, start_date="20230103", end_date="20230829")
    codes, dates, fields = decode_panel(await _collect(servicer.GetFactorValues(values, Context())))
    _, stored_dates, stored = await world.values.read(
        factor_id, "dif", codes, _day("20230103"), _day("20230829")
    )
    assert codes == sorted(BANKS) and np.array_equal(dates, stored_dates)
    np.testing.assert_array_equal(fields["dif"], stored.T)

    analysis = await servicer.AnalyzeFactor(
        pb.AnalyzeFactorRequest(
            factor_id=factor_id,
            column="macd",
            start_date="20230103",
            end_date="20230829",
            horizons=[1, 5],
            quantiles=2,
        ),  # fmt: skip
        Context(),
    )
    assert [h.horizon for h in analysis.horizons] == [1, 5] and len(
        analysis.horizons[0].quantile_mean_returns
    ) == 2


@pytest.mark.usefixtures("as_bob")
async def test_compute_indicators_streams_named_outputs_and_needs_a_bearer_token() -> None:
    servicer = _servicer(CalcWorld())
    request = pb.ComputeIndicatorsRequest(
        ts_codes=list(BANKS),
        start_date="20230601",
        end_date="20230829",
        indicators=[pb.IndicatorRequest(indicator="kdj"), pb.IndicatorRequest(
            indicator="boll", params=[pb.IndicatorParam(name="n", value=10)])],
        adjust=pb.PRICE_ADJUST_QFQ,
    )  # fmt: skip
    codes, dates, fields = decode_panel(await _collect(servicer.ComputeIndicators(request, Context())))
    assert codes == list(BANKS) and sorted(fields) == [
        "boll.lower",
        "boll.mid",
        "boll.upper",
        "kdj.d",
        "kdj.j",
        "kdj.k",
    ]
    assert np.isfinite(fields["kdj.k"]).all() and str(dates[0]) == "2023-06-01"
    with pytest.raises(Unauthenticated):
        await _collect(servicer.ComputeIndicators(request, Context(token="")))
