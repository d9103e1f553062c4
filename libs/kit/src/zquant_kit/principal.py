"""Who is calling: set by the auth interceptor, read by every RPC through `current()` / `require()`."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

from zquant_kit.errors import PermissionDenied, Unauthenticated


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    username: str
    role: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    auth_method: str = "jwt"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def has(self, permission: str) -> bool:
        """`user:*` grants every `user:<action>`; `*` grants everything."""
        if permission in self.permissions or "*" in self.permissions:
            return True
        resource = permission.split(":", 1)[0]
        return f"{resource}:*" in self.permissions


_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("zq_principal", default=None)


def current() -> Principal:
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("authentication required")
    return principal


def current_or_none() -> Principal | None:
    return _current.get()


def bind(principal: Principal | None) -> contextvars.Token:
    return _current.set(principal)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


def require(permission: str) -> Principal:
    """Every RPC calls this: the service re-checks, whatever the gateway did."""
    principal = current()
    if not principal.has(permission):
        raise PermissionDenied(f"permission {permission!r} required", permission=permission)
    return principal
