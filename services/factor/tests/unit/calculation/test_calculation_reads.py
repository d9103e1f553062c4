"""ComputeIndicators, GetFactorValues, AnalyzeFactor and staleness through their use cases on the banks' bars."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from services.factor.tests.unit.calculation.fakes import InlinePool
from services.factor.tests.unit.calculation.world import BANKS, BOB, TOKEN, CalcWorld, _day
from zquant.marketdata.v1 import events_pb2
from zquant_factor.application.analysis_use_case import AnalysisAsk, FactorAnalysisUseCase
from zquant_factor.application.market_ports import Adjust
from zquant_factor.application.panel_reads import IndicatorAsk, PanelReads
from zquant_factor.domain.indicators import trend
from zquant_kit.errors import InvalidArgument, NotFound
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal

pytestmark = pytest.mark.unit

SPAN = (_day("20220104"), _day("20230829"))
ALICE = Principal("alice-id", "alice", "researcher", frozenset({"factor:read"}))


def _reads(world: CalcWorld) -> PanelReads:
    return PanelReads(world.definitions._uow, world.market, world.values, InlinePool())


async def test_qfq_indicators_equal_indicators_on_qfq_prices() -> None:
    world = CalcWorld()
    asks = [IndicatorAsk("ma", {"n": 10.0}), IndicatorAsk("rsi", {"n": 12.0}), IndicatorAsk("macd", {})]
    panel = await _reads(world).compute_indicators(BOB, BANKS, SPAN, asks, Adjust.QFQ, TOKEN)
    assert sorted(panel.fields) == ["ma.ma", "macd.dea", "macd.dif", "macd.macd", "rsi.rsi"]
    hfq = await _reads(world).compute_indicators(BOB, BANKS, SPAN, asks, Adjust.HFQ, TOKEN)
    np.testing.assert_allclose(panel.fields["rsi.rsi"], hfq.fields["rsi.rsi"], rtol=0, atol=1e-12)
    bars = await world.market.panel(BANKS, SPAN[0], SPAN[1], ("close", "adj_factor"), Adjust.NONE, TOKEN)
    qfq_close = bars.fields["close"] * bars.fields["adj_factor"] / bars.fields["adj_factor"][-1]
    direct = trend.ma(qfq_close, n=10).values["ma"]
    np.testing.assert_allclose(panel.fields["ma.ma"][9:], direct[9:], rtol=1e-12)


async def test_bad_indicator_parameters_are_named() -> None:
    reads = _reads(CalcWorld())
    with pytest.raises(InvalidArgument) as caught:
        await reads.compute_indicators(BOB, BANKS, SPAN, [IndicatorAsk("ma", {"n": 2.5})], Adjust.HFQ, TOKEN)
    assert caught.value.field == "indicators[0].params.n"
    with pytest.raises(InvalidArgument) as caught:
        await reads.compute_indicators(BOB, BANKS, SPAN, [IndicatorAsk("ma", {"n": 0})], Adjust.HFQ, TOKEN)
    assert caught.value.field == "indicators[0].params.n"
    with pytest.raises(InvalidArgument) as caught:
        await reads.compute_indicators(BOB, BANKS, SPAN, [IndicatorAsk("nope", {})], Adjust.HFQ, TOKEN)
    assert caught.value.field == "indicators[0].indicator"


async def test_stored_values_read_back_as_calculated_and_only_for_who_can_see_them() -> None:
    world = CalcWorld()
    factor_id = world.add_factor("macd", ("m-macd", "macd", {}))
    await world.calculate([factor_id], "20220104", "20230829")
    panel = await _reads(world).factor_values(BOB, factor_id, (), SPAN, Adjust.HFQ, TOKEN)
    assert panel.codes == tuple(sorted(BANKS)) and sorted(panel.fields) == ["dea", "dif", "macd"]
    on_the_fly = await _reads(world).compute_indicators(
        BOB, panel.codes, SPAN, [IndicatorAsk("macd", {})], Adjust.HFQ, TOKEN
    )
    np.testing.assert_allclose(panel.fields["dif"], on_the_fly.fields["macd.dif"], rtol=0, atol=1e-9)
    qfq = await _reads(world).factor_values(BOB, factor_id, (), SPAN, Adjust.QFQ, TOKEN)
    bars = await world.market.panel(panel.codes, SPAN[0], SPAN[1], ("adj_factor",), Adjust.NONE, TOKEN)
    np.testing.assert_allclose(qfq.fields["macd"], panel.fields["macd"] / bars.fields["adj_factor"][-1])
    with pytest.raises(NotFound):
        await _reads(world).factor_values(ALICE, factor_id, (), SPAN, Adjust.HFQ, TOKEN)


async def test_analysis_of_a_stored_factor_matches_scipy_rank_ic() -> None:
    world = CalcWorld()
    factor_id = world.add_factor("mom", expression="close / ref(close, 20)")
    await world.calculate([factor_id], "20220104", "20230829")
    use_case = FactorAnalysisUseCase(world.definitions._uow, world.market, world.values, InlinePool())
    ask = AnalysisAsk(
        factor_id, "", (), SPAN[0], SPAN[1], horizons=(1, 5), quantiles=2, industry_neutral=True
    )
    with pytest.raises(InvalidArgument):
        await use_case.analyse(BOB, AnalysisAsk(factor_id, "", (), *SPAN, quantiles=1), TOKEN)
    result = await use_case.analyse(
        BOB, AnalysisAsk(factor_id, "", (), *SPAN, horizons=(1, 5), quantiles=2), TOKEN
    )
    _, _, values = await world.values.read(factor_id, "mom", list(result.codes), *SPAN)
    close = (await world.market.panel(result.codes, *SPAN, ("close",), Adjust.HFQ, TOKEN)).fields["close"]
    row = 100
    forward = close[row + 1] / close[row] - 1
    expected = stats.spearmanr(values[row], forward).statistic
    assert result.analysis.information.rank_ic[0, row] == pytest.approx(expected, abs=1e-9)
    neutral = await use_case.analyse(BOB, ask, TOKEN)  # all four are banks: one industry
    assert np.isfinite(neutral.analysis.information.ic_summary.mean).all()


async def test_a_bar_sync_marks_stored_factors_stale_and_auto_updates_them() -> None:
    from services.factor.tests.unit.calculation.staleness_fakes import staleness_of

    world = CalcWorld()
    stored = world.add_factor("ma", ("m-ma", "ma", {"n": 5}))
    world.add_factor("never", ("m-never", "ma", {"n": 5}))
    await world.calculate([stored], "20230103", "20230810")
    staleness, marks = staleness_of(world, auto_update=True)
    message = events_pb2.SyncCompletedEvent(
        run_id="r1", datasets=["daily"], start_date="20230811", end_date="20230829"
    )
    event = Event.create("marketdata.sync.completed.v1", message)
    await staleness.on_sync_completed(event)
    assert await staleness.stale() == {stored: _day("20230811")}
    (job,) = [r for r in world.records.store.calculations.values() if r.owner_id == "system"]
    assert job.factor_ids == (stored,) and job.codes == ()
    await staleness.on_sync_completed(
        Event.create("x", events_pb2.SyncCompletedEvent(datasets=["stock_basic"]))
    )
    assert len(marks.store.marks) == 1
