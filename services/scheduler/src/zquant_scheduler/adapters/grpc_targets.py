"""JobTargets over gRPC: marketdata's StartSync and ValidateData, factor's CalculateFactors, each sent with the
owner's bearer token and the run's idempotency key (`idempotency-key` metadata), read to the end of its stream.

A refusal (PERMISSION_DENIED, INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED, FAILED_PRECONDITION) fails the run at
once; any other status (the target down, a deadline) is retried. The backtest service's contract is not in this
tree yet, so a backtest run fails with that reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import grpc
from google.protobuf import json_format

from zquant.factor.v1 import calculation_pb2, calculation_pb2_grpc
from zquant.marketdata.v1 import sync_pb2, sync_pb2_grpc
from zquant_kit.errors import (
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    Unauthenticated,
)
from zquant_kit.grpc.client import bearer
from zquant_scheduler.application.job_ports import JobTargets, TargetCall, TargetResult

IDEMPOTENCY_KEY = "idempotency-key"

_REFUSED = {
    grpc.StatusCode.PERMISSION_DENIED: lambda text: PermissionDenied(text),
    grpc.StatusCode.UNAUTHENTICATED: lambda text: Unauthenticated(text),
    grpc.StatusCode.INVALID_ARGUMENT: lambda text: InvalidArgument("config", text),
    grpc.StatusCode.NOT_FOUND: lambda text: FailedPrecondition(text),
    grpc.StatusCode.FAILED_PRECONDITION: lambda text: FailedPrecondition(text),
}


class TargetFailed(Exception):
    """The target ran the work and reported failure: retried like an outage."""


@contextlib.contextmanager
def _refusals(service: str) -> Iterator[None]:
    try:
        yield
    except grpc.aio.AioRpcError as error:
        refusal = _REFUSED.get(error.code())
        text = f"{service}: {error.details() or error.code().name}"
        if refusal is None:
            raise TargetFailed(f"{service} answered {error.code().name}: {error.details()}") from None
        raise refusal(text) from None


def _metadata(call: TargetCall) -> list[tuple[str, str]]:
    return [*bearer(call.token), (IDEMPOTENCY_KEY, call.idempotency_key)]


class GrpcJobTargets(JobTargets):
    def __init__(
        self, marketdata: grpc.aio.Channel, factor: grpc.aio.Channel, timeout_seconds: float = 6 * 3600
    ) -> None:
        self._sync = sync_pb2_grpc.SyncServiceStub(marketdata)
        self._factor = calculation_pb2_grpc.FactorCalculationServiceStub(factor)
        self._timeout = timeout_seconds

    async def data_sync(self, call: TargetCall) -> TargetResult:
        request = json_format.ParseDict(dict(call.request), sync_pb2.StartSyncRequest())
        last = sync_pb2.SyncProgress()
        with _refusals("marketdata"):
            async for update in self._sync.StartSync(request, metadata=_metadata(call), timeout=self._timeout):
                last = update.progress
        if last.state != "succeeded":
            raise TargetFailed(f"sync {last.run_id} {last.state or 'ended'}: {last.error}")
        return TargetResult(last.run_id, f"sync {last.state}: {last.inserted} inserted, {last.updated} updated")

    async def data_validation(self, call: TargetCall) -> TargetResult:
        request = json_format.ParseDict(dict(call.request), sync_pb2.ValidateDataRequest())
        with _refusals("marketdata"):
            response = await self._sync.ValidateData(request, metadata=_metadata(call), timeout=self._timeout)
        return TargetResult("", f"{len(response.issues)} data issue(s)")

    async def factor_calculation(self, call: TargetCall) -> TargetResult:
        request = json_format.ParseDict(dict(call.request), calculation_pb2.CalculateFactorsRequest())
        last = calculation_pb2.CalculateFactorsResponse()
        with _refusals("factor"):
            stream = self._factor.CalculateFactors(request, metadata=_metadata(call), timeout=self._timeout)
            async for update in stream:
                last = update
        if last.state != "succeeded":
            raise TargetFailed(f"calculation {last.job_id} {last.state or 'ended'}: {last.message}")
        return TargetResult(last.job_id, f"calculation succeeded: {last.message}")

    async def backtest_run(self, call: TargetCall) -> TargetResult:
        raise FailedPrecondition("backtest runs are not wired: the backtest service's contract is not deployed")

