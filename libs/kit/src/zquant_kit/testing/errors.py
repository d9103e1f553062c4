"""Decoding the google.rpc details a failed gRPC call carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar, cast

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class ErrorDetails:
    """What a client can learn from a failed call: status, message and the packed google.rpc details."""

    code: grpc.StatusCode
    message: str
    reason: str
    domain: str
    fields: list[str]
    resource_type: str
    resource_name: str


def error_details(error: grpc.aio.AioRpcError) -> ErrorDetails:
    """Decodes ErrorInfo, BadRequest and ResourceInfo from a failed call's status."""
    status = rpc_status.from_call(cast(grpc.Call, error))
    info = error_details_pb2.ErrorInfo()
    bad_request = error_details_pb2.BadRequest()
    resource = error_details_pb2.ResourceInfo()
    for packed in status.details if status is not None else ():
        for message in (info, bad_request, resource):
            if packed.Is(message.DESCRIPTOR):
                packed.Unpack(message)
    return ErrorDetails(
        code=error.code(),
        message=error.details() or "",
        reason=info.reason,
        domain=info.domain,
        fields=[violation.field for violation in bad_request.field_violations],
        resource_type=resource.resource_type,
        resource_name=resource.resource_name,
    )


async def expect_error(call: Any, code: grpc.StatusCode) -> ErrorDetails:
    """Awaits `call`, asserts it fails with `code` and a clean message, and returns the decoded details."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    found = error_details(caught.value)
    assert found.code == code, f"expected {code.name}, got {found.code.name}: {found.message}"
    assert "Traceback" not in found.message
    return found


def status_detail(status: status_pb2.Status | None, kind: type[M]) -> M | None:
    """The first detail of type `kind` packed in a google.rpc.Status, or None."""
    for packed in status.details if status is not None else ():
        if packed.Is(kind.DESCRIPTOR):
            message = kind()
            packed.Unpack(message)
            return message
    return None


def detail(error: grpc.aio.AioRpcError, kind: type[M]) -> M:
    """The first packed detail of type `kind` of a failed call; fails the test when there is none."""
    found = status_detail(rpc_status.from_call(cast(grpc.Call, error)), kind)
    if found is None:
        raise AssertionError(f"no {kind.__name__} in {error}")
    return found
