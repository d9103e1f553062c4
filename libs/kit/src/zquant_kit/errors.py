"""Domain-level errors shared by every service.

Pure Python on purpose: domain code raises these, and the gRPC adapter
(`zquant_kit.grpc.status`) maps them to status codes with details in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class ZqError(Exception):
    """Base of every error a client is allowed to see."""

    reason: str = "ERROR"

    def __init__(self, message: str, *, reason: str | None = None, retry_after: float | None = None) -> None:
        """`retry_after` (seconds) tells the client when a retry may succeed (google.rpc.RetryInfo)."""
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.retry_after = retry_after


class InvalidArgument(ZqError):
    """Request fields are malformed; `field` names the first (dotted path, e.g. `config.token`, `ts_codes[3]`).

    `violations` holds the (field, description) pairs, one per bad field, the first one included; `hidden` counts
    bad fields left out of a long list.
    """

    reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        field: str,
        description: str,
        *,
        reason: str | None = None,
        more: Sequence[tuple[str, str]] = (),
        hidden: int = 0,
    ) -> None:
        others = len(more) + max(hidden, 0)
        super().__init__(
            f"{field}: {description}" + (f" (and {others} more)" if others else ""), reason=reason
        )
        self.field = field
        self.description = description
        self.violations: tuple[tuple[str, str], ...] = ((field, description), *more)

    @classmethod
    def of(cls, violations: Sequence[tuple[str, str]], *, hidden: int = 0) -> InvalidArgument:
        """One error for several bad fields (at least one)."""
        (field, description), *more = violations
        return cls(field, description, more=more, hidden=hidden)


class NotFound(ZqError):
    reason = "NOT_FOUND"

    def __init__(self, resource_type: str, resource_name: str) -> None:
        super().__init__(f"{resource_type} {resource_name!r} not found")
        self.resource_type = resource_type
        self.resource_name = resource_name


class AlreadyExists(ZqError):
    reason = "ALREADY_EXISTS"

    def __init__(self, resource_type: str, resource_name: str, field: str = "") -> None:
        what = f" ({field})" if field else ""
        super().__init__(f"{resource_type} {resource_name!r} already exists{what}")
        self.resource_type = resource_type
        self.resource_name = resource_name
        self.field = field


class Unauthenticated(ZqError):
    reason = "UNAUTHENTICATED"


class PermissionDenied(ZqError):
    reason = "PERMISSION_DENIED"

    def __init__(self, message: str, *, permission: str = "", reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.permission = permission


class FailedPrecondition(ZqError):
    reason = "FAILED_PRECONDITION"


class Unavailable(ZqError):
    reason = "UNAVAILABLE"


class ResourceExhausted(ZqError):
    """A per-process budget (e.g. concurrent heavy reads) is used up; retry after `retry_after` seconds."""

    reason = "RESOURCE_EXHAUSTED"


def required(value: str, field: str) -> str:
    """`value`, or INVALID_ARGUMENT "required" naming `field` when it is empty."""
    if not value:
        raise InvalidArgument(field, "required")
    return value


def found(value: T | None, resource_type: str, resource_name: str) -> T:
    """What a lookup returned, or NOT_FOUND naming the resource when it returned None."""
    if value is None:
        raise NotFound(resource_type, resource_name)
    return value
