"""Domain errors → gRPC status with google.rpc details, in one place."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from zquant_kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    ZqError,
)

MAX_ECHO = 120
"""Longest field path, description or resource name sent back: about 100 characters of any input, no more."""
MAX_MESSAGE = 160
"""Longest status message (a clipped `field: description`)."""

_CODES: list[tuple[type[ZqError], int]] = [
    (InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (NotFound, code_pb2.NOT_FOUND),
    (AlreadyExists, code_pb2.ALREADY_EXISTS),
    (Unauthenticated, code_pb2.UNAUTHENTICATED),
    (PermissionDenied, code_pb2.PERMISSION_DENIED),
    (FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (Unavailable, code_pb2.UNAVAILABLE),
    (ResourceExhausted, code_pb2.RESOURCE_EXHAUSTED),
]


def _pack(message: Message) -> any_pb2.Any:
    container = any_pb2.Any()
    container.Pack(message)
    return container


def clip(text: str, limit: int = MAX_ECHO) -> str:
    """At most `limit` characters, an ellipsis marking a cut: no error carries megabytes of input back."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_for(error: ZqError, domain: str) -> status_pb2.Status:
    code = next((c for t, c in _CODES if isinstance(error, t)), code_pb2.UNKNOWN)
    details = [_pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=domain))]
    if isinstance(error, InvalidArgument):
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=clip(field), description=clip(description))
            for field, description in error.violations
        ]
        details.append(_pack(error_details_pb2.BadRequest(field_violations=violations)))
    if isinstance(error, (NotFound, AlreadyExists)):
        details.append(
            _pack(
                error_details_pb2.ResourceInfo(
                    resource_type=error.resource_type, resource_name=clip(error.resource_name)
                )
            )
        )
    if error.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(max(error.retry_after, 0.0) * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=code, message=clip(error.message, MAX_MESSAGE), details=details)


def to_grpc_status(error: ZqError, domain: str) -> grpc.Status:
    return rpc_status.to_status(status_for(error, domain))


def internal_status() -> grpc.Status:
    """What a client sees for an unexpected failure: no traceback, no internals."""
    return rpc_status.to_status(status_pb2.Status(code=code_pb2.INTERNAL, message="internal error"))


class ErrorInfoReader:
    """Reads the stable `ErrorInfo.reason` back out of a failed call (for relaying errors between services)."""

    @staticmethod
    def reason(error: grpc.aio.AioRpcError, default: str = "UNAUTHENTICATED") -> str:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]  # an AioRpcError is a grpc.Call
        if status is not None:
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    return str(info.reason)
        return default
