"""The run's market panel over marketdata's gRPC API: one GetPanel stream of the unadjusted bars and the rule
fields (decoded with the kit's panel codec as it arrives), plus GetIndexBars for the benchmark's close.

marketdata serves no dividend rows nor index membership yet, so the panel carries positions across ex-rights days
by ``adj_factor`` (the engine's documented approximation) and an index universe is refused with that reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, Callable, Iterator, Sequence
from datetime import date
from typing import cast

import grpc
import numpy as np

from zquant.marketdata.v1 import common_pb2, market_data_pb2, market_data_pb2_grpc
from zquant_backtest.application.panel_ports import PANEL_FIELDS, PanelSource
from zquant_backtest.application.run_ports import RunConfig, RunFailed
from zquant_backtest.domain.market import MarketPanel
from zquant_kit.grpc.panel_codec import PanelResponse, parse_days, read_panel

REFUSALS = frozenset(
    {
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
    }
)
"""marketdata's answers that fail the run at once; anything else (UNAVAILABLE …) stays an RpcError to retry."""


@contextlib.contextmanager
def refusals_as(failure: Callable[[str], Exception]) -> Iterator[None]:
    """A refusal (REFUSALS) is raised as `failure` with marketdata's reason; an outage stays an RpcError."""
    try:
        yield
    except grpc.aio.AioRpcError as error:
        if error.code() not in REFUSALS:
            raise
        raise failure(f"marketdata: {error.details() or error.code().name}") from None


def yyyymmdd(day: date) -> str:
    return day.strftime("%Y%m%d")


class MarketdataPanelSource(PanelSource):
    def __init__(
        self, channel: grpc.aio.Channel, metadata: Sequence[tuple[str, str]], timeout_seconds: float = 600.0
    ) -> None:
        """``metadata``: the credential marketdata sees (the service's own, ``service_metadata(secret)``)."""
        self._stub = market_data_pb2_grpc.MarketDataServiceStub(channel)
        self._metadata = list(metadata)
        self._timeout = timeout_seconds

    async def load(self, config: RunConfig) -> MarketPanel:
        if config.index_code:
            raise RunFailed("index universes need index membership, which marketdata does not serve yet")
        if not config.codes:
            raise RunFailed("the universe is empty")
        request = market_data_pb2.GetPanelRequest(
            ts_codes=list(config.codes),
            start_date=yyyymmdd(config.start),
            end_date=yyyymmdd(config.end),
            fields=list(PANEL_FIELDS),
            adjust=common_pb2.ADJUST_NONE,
        )
        stream = self._stub.GetPanel(request, metadata=self._metadata, timeout=self._timeout)
        with refusals_as(RunFailed):
            got, dates, values = await read_panel(cast(AsyncIterable[PanelResponse], stream))
        if dates.size == 0:
            raise RunFailed(f"marketdata has no trading day from {config.start} to {config.end}")
        grids = _dates_by_codes(list(got), values, config.codes, dates.size)
        benchmark = await self._benchmark(config.benchmark, config, dates) if config.benchmark else None
        return market_panel(dates, config.codes, grids, benchmark)

    async def _benchmark(self, code: str, config: RunConfig, dates: np.ndarray) -> np.ndarray:
        """The index close on the panel's dates (NaN where the index has no bar)."""
        request = market_data_pb2.GetIndexBarsRequest(
            ts_code=code, start_date=yyyymmdd(config.start), end_date=yyyymmdd(config.end)
        )
        with refusals_as(RunFailed):
            reply = await self._stub.GetIndexBars(request, metadata=self._metadata, timeout=self._timeout)
        if not reply.bars:
            raise RunFailed(f"marketdata has no bar of the benchmark {code} in the run's dates")
        days = parse_days([bar.trade_date for bar in reply.bars])
        closes = np.array([bar.close for bar in reply.bars], dtype=np.float64)
        aligned = np.full(dates.size, np.nan)
        where = np.searchsorted(dates, days)
        inside = (where < dates.size) & (dates[np.minimum(where, dates.size - 1)] == days)
        aligned[where[inside]] = closes[inside]
        return aligned


def _dates_by_codes(
    got: list[str], values: dict[str, np.ndarray], codes: Sequence[str], days: int
) -> dict[str, np.ndarray]:
    """The codec's codes × dates grids as dates × codes in the config's order; a code marketdata left out is NaN."""
    position = {code: i for i, code in enumerate(got)}
    order = np.array([position.get(code, -1) for code in codes], dtype=np.int64)
    known = order >= 0
    grids = {}
    for name in PANEL_FIELDS:
        grid = np.full((days, len(codes)), np.nan)
        grid[:, known] = values[name][order[known]].T
        grids[name] = grid
    return grids


def market_panel(
    dates: np.ndarray, codes: Sequence[str], grids: dict[str, np.ndarray], benchmark: np.ndarray | None
) -> MarketPanel:
    """GetPanel's float grids as the engine's types: flags 1/0 (NaN before listing) as bools, ``list_days`` as
    integers (0 where NaN: not listed)."""
    return MarketPanel(
        dates=dates.astype("datetime64[D]"),
        codes=tuple(codes),
        open=grids["open"],
        high=grids["high"],
        low=grids["low"],
        close=grids["close"],
        pre_close=grids["pre_close"],
        volume=grids["vol"],
        amount=grids["amount"],
        adj_factor=grids["adj_factor"],
        up_limit=grids["up_limit"],
        down_limit=grids["down_limit"],
        is_st=grids["is_st"] == 1.0,
        is_suspended=grids["is_suspended"] == 1.0,
        list_days=np.nan_to_num(grids["list_days"], nan=0.0).astype(np.int64),
        benchmark_close=benchmark,
    )
