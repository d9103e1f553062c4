"""Factor values for the engine: one read per factor for the run's codes and dates, the value on d is the one
stored for d; over gRPC with the owner's token, from a worker run (a fake factor service on port 0)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import grpc
import numpy as np
import pytest

from services.backtest.tests.executor.runs import (
    FakeOwnerTokens,
    FakePanelSource,
    RecordedProgress,
    in_process,
    synthetic_panel,
)
from zquant.factor.v1 import calculation_pb2, calculation_pb2_grpc
from zquant_backtest.adapters.factor_values import FactorPanel, FactorServiceValues
from zquant_backtest.adapters.panel_cache import PanelCache
from zquant_backtest.adapters.worker_executor import WorkerRunExecutor
from zquant_backtest.application.run_ports import RunConfig, RunFailed, RunSpec, StrategyCode
from zquant_kit.grpc.panel_codec import encode_panel_responses

pytestmark = pytest.mark.unit

CODES = ("600000.SH", "600004.SH", "000001.SZ")
PANEL = synthetic_panel(CODES, date(2024, 1, 2), 40)
MOM = np.tile(np.array([1.0, 3.0, 2.0]), (40, 1)) + np.arange(40)[:, None]  # dates × codes; 600004 on top


class CountingReader:
    def __init__(self) -> None:
        self.reads: list[tuple[str, tuple[str, ...], date, date]] = []

    def read(self, name, codes, start, end) -> FactorPanel:
        self.reads.append((name, tuple(codes), start, end))
        return FactorPanel(PANEL.dates[::2], ("600004.SH", "600000.SH"), MOM[::2, [1, 0]])


def test_each_factor_is_read_once_and_each_day_served_from_memory() -> None:
    reader = CountingReader()
    values = FactorServiceValues(reader, CODES, PANEL.days[0], PANEL.days[-1])
    first = values.values("mom", PANEL.days[0], CODES)
    assert np.array_equal(first, [1.0, 3.0, np.nan], equal_nan=True)  # 000001.SZ has no stored value
    assert np.isnan(values.values("mom", PANEL.days[1], CODES)).all()  # nothing stored for that day
    assert values.values("mom", PANEL.days[4], ("600004.SH",)).tolist() == [7.0]
    values.values("other", PANEL.days[0], CODES)
    assert reader.reads == [
        ("mom", CODES, PANEL.days[0], PANEL.days[-1]),
        ("other", CODES, PANEL.days[0], PANEL.days[-1]),
    ]


class FakeFactorService(calculation_pb2_grpc.FactorCalculationServiceServicer):
    def __init__(self) -> None:
        self.requests: list[calculation_pb2.GetFactorValuesRequest] = []

    async def GetFactorValues(self, request, context):
        if dict(context.invocation_metadata()).get("authorization") != "Bearer tok-1":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not the owner's token")
        if request.factor_id != "mom":
            await context.abort(grpc.StatusCode.NOT_FOUND, f"factor {request.factor_id} not found")
        self.requests.append(request)
        for response in encode_panel_responses(
            calculation_pb2.GetFactorValuesResponse, list(CODES), PANEL.dates, ["value"], {"value": MOM.T}, 2
        ):
            yield response


@pytest.fixture
async def factor_service() -> AsyncIterator[tuple[str, FakeFactorService]]:
    server = grpc.aio.server()
    servicer = FakeFactorService()
    calculation_pb2_grpc.add_FactorCalculationServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", servicer
    await server.stop(None)


async def test_a_worker_run_reads_the_factor_as_the_owner_once(scratch, workers, factor_service) -> None:
    address, servicer = factor_service
    tokens = FakeOwnerTokens({"owner-1": "tok-1", "owner-2": "tok-2"})
    run = WorkerRunExecutor(
        FakePanelSource(PANEL), PanelCache(scratch / "panels", 1 << 30), workers, in_process, tokens,
        scratch / "boards", factor_address=address, poll_seconds=0.02,
    )  # fmt: skip
    config = RunConfig(start=PANEL.days[0], end=PANEL.days[-1], initial_cash=100_000.0, codes=CODES)
    result = await run.execute(
        RunSpec("t1", "owner-1", StrategyCode("top_factor", {}), config, "v1"), RecordedProgress()
    )
    assert [CODES[i] for i in result.fills.code.tolist()] == ["600004.SH"]
    assert len(servicer.requests) == 1
    asked = servicer.requests[0]
    assert (tuple(asked.ts_codes), asked.start_date, asked.end_date) == (CODES, "20240102", "20240226")
    with pytest.raises(RunFailed, match="factor 'mom': not the owner's token"):
        await run.execute(
            RunSpec("t2", "owner-2", StrategyCode("top_factor", {}), config, "v1"), RecordedProgress()
        )
    assert tokens.asked[-1] == ("owner-2", ("factor:read",))
