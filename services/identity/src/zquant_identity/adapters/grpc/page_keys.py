"""Page tokens of identity's list RPCs: one string, or (ISO time, id) whose time must parse."""

from __future__ import annotations

import datetime as dt

from zquant_identity.adapters.grpc.messages import iso
from zquant_identity.application.views import UserView
from zquant_identity.domain.model import ApiKey, AuditEntry, Notification, Permission, Role
from zquant_kit.pagination import Cursor, pair_cursor, single_cursor

USERS: Cursor[UserView, str] = single_cursor("users", lambda view: view.user.username)
ROLES: Cursor[Role, str] = single_cursor("roles", lambda role: role.name)
PERMISSIONS: Cursor[Permission, str] = single_cursor("permissions", lambda permission: permission.name)
API_KEYS: Cursor[ApiKey, str] = single_cursor("api_keys", lambda key: key.id)
# The time must parse here, or the query would fail later.
NOTIFICATIONS: Cursor[Notification, tuple[str, str]] = pair_cursor(
    "notifications", lambda n: (iso(n.created_at), n.id), dt.datetime.fromisoformat
)
AUDIT: Cursor[AuditEntry, tuple[str, str]] = pair_cursor(
    "audit", lambda entry: (iso(entry.time), entry.id), dt.datetime.fromisoformat
)
