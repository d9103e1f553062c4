"""Who is calling: set by the auth interceptor, read by every RPC through `current()` / `require()`."""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field

from zquant_kit import context
from zquant_kit.errors import PermissionDenied, Unauthenticated


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    username: str
    role: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    auth_method: str = "jwt"
    # When the access token was issued (microseconds since the epoch), checked against revocations.
    issued_at_us: int = 0
    # A token a service obtained to act for this user (its `act` claim): which service, "" for the user's own.
    acting_service: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_service(self) -> bool:
        """Another zquant service, authenticated by the shared service credential (not a user)."""
        return self.auth_method == "service"

    def has(self, permission: str) -> bool:
        """`user:*` grants every `user:<action>`; `*` grants everything."""
        if permission in self.permissions or "*" in self.permissions:
            return True
        resource = permission.split(":", 1)[0]
        return f"{resource}:*" in self.permissions

    def require(self, permission: str) -> Principal:
        """This principal, if it holds `permission`; PERMISSION_DENIED naming the permission otherwise.
        The one permission check: RPCs call it through `require()`, use cases on their `actor`."""
        if not self.has(permission):
            raise PermissionDenied(f"permission {permission!r} required", permission=permission)
        return self


_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("zq_principal", default=None)


def current() -> Principal:
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("authentication required")
    return principal


def current_or_none() -> Principal | None:
    return _current.get()


def bind(principal: Principal | None) -> contextvars.Token[Principal | None]:
    return _current.set(principal)


def reset(token: contextvars.Token[Principal | None]) -> None:
    _current.reset(token)


def bound(principal: Principal | None) -> contextlib.AbstractContextManager[None]:
    """The caller is `principal` inside the block."""
    return context.bound(_current, principal)


def require_service() -> Principal:
    """Service-only RPCs: anonymous callers are unauthenticated, users (even admins) are refused."""
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("this RPC needs the service credential", reason="SERVICE_CREDENTIAL_REQUIRED")
    if not principal.is_service:
        raise PermissionDenied(
            "only zquant services may call this RPC",
            permission="service",
            reason="SERVICE_CREDENTIAL_REQUIRED",
        )
    return principal


def require(permission: str) -> Principal:
    """Every RPC calls this: the service re-checks, whatever the gateway did."""
    return current().require(permission)
