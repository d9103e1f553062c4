"""Factor values of a run from the factor service's stored values (GetFactorValues), as the run's owner.

The engine asks ``values(name, on, codes)`` once per day inside the worker process; the first ask of a factor
reads its whole panel for the run's codes and dates in one RPC, later days are served from memory. The value
on day d is the one stored for d (the factor service computes it from data up to d), NaN where none is stored.

The worker has no event loop (the engine's day loop is synchronous and CPU-bound), so the read is a blocking
gRPC call there; the owner's token is asked for on the service's side (``OwnerTokens``, scope ``factor:read``)
before the worker starts, and is the only credential the worker holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, cast

import grpc
import numpy as np

from zquant.factor.v1 import calculation_pb2, calculation_pb2_grpc
from zquant_backtest.application.strategy_port import FactorSource
from zquant_kit.grpc.client import bearer
from zquant_kit.grpc.panel_codec import PanelResponse, decode_panel

FACTOR_READ = "factor:read"


@dataclass(frozen=True, eq=False)
class FactorPanel:
    dates: np.ndarray
    """datetime64[D], increasing."""
    codes: tuple[str, ...]
    values: np.ndarray
    """dates × codes."""


class FactorPanelReader(Protocol):
    def read(self, name: str, codes: Sequence[str], start: date, end: date) -> FactorPanel: ...


class FactorUnavailable(LookupError):
    """A factor the run cannot read: the owner lacks ``factor:read``, the factor is unknown or not theirs."""


class FactorServiceValues(FactorSource):
    def __init__(self, reader: FactorPanelReader, codes: Sequence[str], start: date, end: date) -> None:
        self._reader = reader
        self._codes = tuple(codes)
        self._start, self._end = start, end
        self._panels: dict[str, FactorPanel] = {}
        self._rows: dict[str, dict[date, int]] = {}
        self._columns: dict[str, dict[str, int]] = {}

    def values(self, name: str, on: date, codes: Sequence[str]) -> np.ndarray:
        panel = self._panels.get(name)
        if panel is None:
            panel = self._panels[name] = self._reader.read(name, self._codes, self._start, self._end)
            self._rows[name] = {
                day: row for row, day in enumerate(panel.dates.astype("datetime64[D]").tolist())
            }
            self._columns[name] = {code: i for i, code in enumerate(panel.codes)}
        out = np.full(len(codes), np.nan)
        row = self._rows[name].get(on)
        if row is None:
            return out
        column = self._columns[name]
        picked = np.array([column.get(code, -1) for code in codes], dtype=np.int64)
        known = picked >= 0
        out[known] = panel.values[row, picked[known]]
        return out


class GrpcFactorPanelReader(FactorPanelReader):
    """GetFactorValues with the owner's bearer token; a factor with several stored columns gives its first."""

    def __init__(self, channel: grpc.Channel, token: str, timeout_seconds: float = 300.0) -> None:
        self._stub = calculation_pb2_grpc.FactorCalculationServiceStub(channel)
        self._metadata = tuple(bearer(token))
        self._timeout = timeout_seconds

    def read(self, name: str, codes: Sequence[str], start: date, end: date) -> FactorPanel:
        request = calculation_pb2.GetFactorValuesRequest(
            factor_id=name, ts_codes=list(codes), start_date=start.strftime("%Y%m%d"),
            end_date=end.strftime("%Y%m%d"),
        )  # fmt: skip
        try:
            stream = self._stub.GetFactorValues(request, metadata=self._metadata, timeout=self._timeout)
            got, dates, values = decode_panel(cast(Iterable[PanelResponse], stream))
        except grpc.RpcError as error:
            failed = cast(grpc.Call, error)
            raise FactorUnavailable(f"factor {name!r}: {failed.details() or failed.code().name}") from None
        if not values:
            raise FactorUnavailable(f"factor {name!r} has no stored values")
        first = next(iter(values.values()))
        return FactorPanel(dates.astype("datetime64[D]"), tuple(got), np.ascontiguousarray(first.T))


class RefusedFactors(FactorSource):
    """The run's factor source when the owner's token could not be had: any ask fails with identity's reason."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    def values(self, name: str, on: date, codes: Sequence[str]) -> np.ndarray:
        raise FactorUnavailable(f"factor {name!r}: {self._reason}")
