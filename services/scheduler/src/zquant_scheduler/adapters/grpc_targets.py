"""JobTargets over gRPC: marketdata's StartSync and ValidateData, factor's CalculateFactors and backtest's
SubmitBacktest, each sent with the owner's bearer token and the run's id as the request's `idempotency_key` (a
target that sees it again answers its first task instead of working twice), followed to the end.

A refusal (PERMISSION_DENIED, INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED, FAILED_PRECONDITION) fails the run at
once; any other status (the target down, a deadline) is retried.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TypeVar

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from zquant.backtest.v1 import backtest_pb2, backtest_pb2_grpc
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


M = TypeVar("M", bound=Message)


def _request(call: TargetCall, message: M) -> M:
    """The job's config as the target's request, keyed by the run."""
    request = json_format.ParseDict(dict(call.request), message)
    request.idempotency_key = call.idempotency_key  # type: ignore[attr-defined]
    return request


class GrpcJobTargets(JobTargets):
    def __init__(
        self,
        marketdata: grpc.aio.Channel,
        factor: grpc.aio.Channel,
        backtest: grpc.aio.Channel,
        timeout_seconds: float = 6 * 3600,
    ) -> None:
        self._sync = sync_pb2_grpc.SyncServiceStub(marketdata)
        self._factor = calculation_pb2_grpc.FactorCalculationServiceStub(factor)
        self._backtest = backtest_pb2_grpc.BacktestServiceStub(backtest)
        self._timeout = timeout_seconds

    async def data_sync(self, call: TargetCall) -> TargetResult:
        request = _request(call, sync_pb2.StartSyncRequest())
        last = sync_pb2.SyncProgress()
        with _refusals("marketdata"):
            async for update in self._sync.StartSync(request, metadata=bearer(call.token), timeout=self._timeout):
                last = update.progress
        if last.state != "succeeded":
            raise TargetFailed(f"sync {last.run_id} {last.state or 'ended'}: {last.error}")
        return TargetResult(last.run_id, f"sync {last.state}: {last.inserted} inserted, {last.updated} updated")

    async def data_validation(self, call: TargetCall) -> TargetResult:
        request = _request(call, sync_pb2.ValidateDataRequest())
        with _refusals("marketdata"):
            response = await self._sync.ValidateData(request, metadata=bearer(call.token), timeout=self._timeout)
        return TargetResult("", f"{len(response.issues)} data issue(s)")

    async def factor_calculation(self, call: TargetCall) -> TargetResult:
        request = _request(call, calculation_pb2.CalculateFactorsRequest())
        last = calculation_pb2.CalculateFactorsResponse()
        with _refusals("factor"):
            stream = self._factor.CalculateFactors(request, metadata=bearer(call.token), timeout=self._timeout)
            async for update in stream:
                last = update
        if last.state != "succeeded":
            raise TargetFailed(f"calculation {last.job_id} {last.state or 'ended'}: {last.message}")
        return TargetResult(last.job_id, f"calculation succeeded: {last.message}")

    async def backtest_run(self, call: TargetCall) -> TargetResult:
        request = _request(call, backtest_pb2.SubmitBacktestRequest())
        metadata = bearer(call.token)
        with _refusals("backtest"):
            task = (await self._backtest.SubmitBacktest(request, metadata=metadata, timeout=60)).task
            watch = backtest_pb2.WatchBacktestRequest(task_id=task.task_id)
            async for update in self._backtest.WatchBacktest(watch, metadata=metadata, timeout=self._timeout):
                task.state = update.state
            final = (await self._backtest.GetBacktest(
                backtest_pb2.GetBacktestRequest(task_id=task.task_id), metadata=metadata, timeout=60
            )).task
        state = backtest_pb2.TaskState.Name(final.state).removeprefix("TASK_STATE_").lower()
        if final.state != backtest_pb2.TASK_STATE_SUCCEEDED:
            raise TargetFailed(f"backtest {final.task_id} {state}: {final.error}")
        return TargetResult(final.task_id, f"backtest succeeded ({final.template_name or final.strategy_name})")
