"""Validation rules and the permission catalogue."""

from __future__ import annotations

import re
from collections.abc import Iterable

from zquant_kit.errors import InvalidArgument, PermissionDenied
from zquant_kit.principal import Principal
from zquant_kit.text import check_text

MIN_PASSWORD_LENGTH = 10
MAX_ROLE_DESCRIPTION_LENGTH = 500
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")

ADMIN_ROLE = "admin"

PERMISSIONS: dict[str, str] = {
    "user:create": "create users",
    "user:read": "read any user",
    "user:update": "update, (de)activate users and reset their passwords",
    "user:delete": "delete users",
    "role:read": "read roles and the permission catalogue",
    "role:write": "create, change and delete roles; assign roles",
    "apikey:create": "create own API keys",
    "apikey:read": "list own API keys",
    "apikey:revoke": "revoke own API keys",
    "data:read": "read market data",
    "data:sync": "sync and load market data, configure sources",
    "factor:read": "read factors",
    "factor:write": "define factors",
    "factor:calculate": "compute factors",
    "factor:admin": "change built-in factors, any user's factors and any user's calculation jobs",
    "backtest:run": "run backtests",
    "backtest:read": "read backtests",
    "backtest:delete": "delete backtests",
    "strategy:read": "read strategies",
    "strategy:write": "create and change strategies",
    "strategy:delete": "delete strategies",
    "scheduler:read": "read scheduled jobs",
    "scheduler:write": "create and change scheduled jobs",
    "scheduler:trigger": "trigger scheduled jobs",
    "audit:read": "query the audit log",
    "notification:create": "send notifications to users",
}

SEED_ROLES: dict[str, tuple[str, list[str]]] = {
    ADMIN_ROLE: ("full control of the installation", sorted(PERMISSIONS)),
    "researcher": (
        "research: data, factors, strategies, backtests, own jobs and API keys",
        [
            "apikey:create",
            "apikey:read",
            "apikey:revoke",
            "data:read",
            "factor:read",
            "factor:write",
            "factor:calculate",
            "backtest:run",
            "backtest:read",
            "backtest:delete",
            "strategy:read",
            "strategy:write",
            "strategy:delete",
            "scheduler:read",
            "scheduler:write",
            "scheduler:trigger",
        ],
    ),
    "viewer": (
        "read-only access to research results",
        ["data:read", "factor:read", "backtest:read", "strategy:read", "scheduler:read"],
    ),
}


def check_username(username: str, field: str = "username") -> str:
    if not _USERNAME.match(username):
        raise InvalidArgument(field, "3-64 characters: letters, digits, '_', '.', '-'")
    return username


def check_email(email: str, field: str = "email") -> str:
    email = check_text(email, field).strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidArgument(field, "not a valid email address")
    return email.lower()


def check_password(password: str, field: str = "password") -> str:
    """At least 10 characters, and not all of one class (letters, digits, or symbols only)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidArgument(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    classes = {
        "lower": any(c.islower() for c in password),
        "upper": any(c.isupper() for c in password),
        "digit": any(c.isdigit() for c in password),
        "other": any(not c.isalnum() for c in password),
    }
    if sum(classes.values()) < 2:
        raise InvalidArgument(field, "must mix at least two of: lower case, upper case, digits, symbols")
    return password


def check_role_name(name: str, field: str = "name") -> str:
    if not _ROLE.match(name):
        raise InvalidArgument(
            field, "2-64 characters: lower-case letters, digits, '_', '-', starting with a letter"
        )
    return name


def check_role_description(description: str, field: str = "description") -> str:
    checked: str = check_text(description, field, max_length=MAX_ROLE_DESCRIPTION_LENGTH)
    return checked


def check_permissions(permissions: list[str], catalogue: set[str], field: str = "permissions") -> list[str]:
    for index, permission in enumerate(permissions):
        if permission not in catalogue:
            raise InvalidArgument(f"{field}[{index}]", f"unknown permission {permission!r}")
    return permissions


def require_held(actor: Principal, permissions: Iterable[str], action: str) -> None:
    """Nobody hands out what they do not hold, so delegated `role:write` or `user:create` never leads up to admin."""
    missing = sorted({p for p in permissions if not actor.has(p)})
    if missing:
        raise PermissionDenied(
            f"{action} needs permissions you do not hold: {', '.join(missing)}",
            permission=missing[0],
            reason="PERMISSION_NOT_HELD",
        )


def require_admin_to_change(actor: Principal, target_role: str, action: str) -> None:
    """Only an admin may change an admin: `user:update` alone must not rename, deactivate or take over one."""
    if target_role == ADMIN_ROLE and not actor.is_admin:
        raise PermissionDenied(f"only an admin may {action} an admin", reason="ADMIN_PROTECTED")
