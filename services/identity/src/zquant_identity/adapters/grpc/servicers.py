"""gRPC inbound adapter: proto ↔ use cases. Every RPC checks its permission here (the service re-checks)."""

from __future__ import annotations

import datetime as dt

from zquant.identity.v1 import (
    api_key_pb2,
    api_key_pb2_grpc,
    audit_pb2,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    notification_pb2,
    notification_pb2_grpc,
    role_pb2,
    role_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)

from zquant_kit import pagination, principal
from zquant_kit.grpc.convert import from_timestamp
from zquant_kit.auth import ApiKeyCredentials, public_jwk
from zquant_kit.errors import InvalidArgument, PermissionDenied
from zquant_identity.adapters.grpc.messages import (
    api_key_message,
    audit_message,
    iso,
    notification_message,
    pair_message,
    revocation_message,
    role_message,
    user_message,
)
from zquant_identity.adapters.grpc.peer import client_address
from zquant_identity.adapters.security import SigningKeyRing
from zquant_identity.application.api_keys import ApiKeyUseCases
from zquant_identity.application.auth import AuthUseCases
from zquant_identity.application.revocations import RevocationQueries
from zquant_identity.application.inbox import AuditUseCases, NotificationUseCases
from zquant_identity.application.ports import AuditFilter, UserFilter
from zquant_identity.application.roles import RoleUseCases
from zquant_identity.application.users import UserUseCases


def _single_key(kind: str, token: str) -> str | None:
    key = pagination.decode_string_cursor(kind, token, 1)
    return key[0] if key else None


def _pair_key(kind: str, token: str) -> tuple[str, str] | None:
    """(ISO time, id) cursors; the time must parse, or the query would fail later."""
    key = pagination.decode_string_cursor(kind, token, 2)
    if key is None:
        return None
    try:
        dt.datetime.fromisoformat(key[0])
    except ValueError:
        raise InvalidArgument("page_token", "invalid or expired page token") from None
    return key


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    PUBLIC = frozenset(
        f"/zquant.identity.v1.AuthService/{m}"
        for m in ("Login", "Refresh", "Logout", "GetPublicKeys")
    )

    def __init__(
        self, auth: AuthUseCases, revocations: RevocationQueries, ring: SigningKeyRing, issuer: str, audience: str
    ) -> None:
        self._auth = auth
        self._revocations = revocations
        self._ring = ring
        self._issuer = issuer
        self._audience = audience

    async def Login(self, request, context):
        tokens = await self._auth.login(request.username, request.password, client_address(context.peer() or ""))
        return auth_pb2.LoginResponse(tokens=pair_message(tokens))

    async def Refresh(self, request, context):
        return auth_pb2.RefreshResponse(tokens=pair_message(await self._auth.refresh(request.refresh_token)))

    async def Logout(self, request, context):
        await self._auth.logout(request.refresh_token)
        return auth_pb2.LogoutResponse()

    async def GetPublicKeys(self, request, context):
        # Callers ask when a token names a kid they don't know: a rotation made by another replica
        # shows up here within the ring's refresh interval rather than its reload period.
        keys = await self._ring.public_keys(refresh=True)
        return auth_pb2.GetPublicKeysResponse(
            keys=[auth_pb2.PublicKey(**public_jwk(kid, key)) for kid, key in keys.items()],
            issuer=self._issuer,
            audience=self._audience,
        )

    async def LogoutAll(self, request, context):
        actor = principal.current()
        if actor.is_service:
            raise PermissionDenied("a service has no sessions to end", permission="service")
        await self._auth.logout_all(actor)
        return auth_pb2.LogoutAllResponse()

    async def ListTokenRevocations(self, request, context):
        principal.require_service()
        since = request.since_time.ToMicroseconds() if request.HasField("since_time") else None
        found = await self._revocations.revocations(since)
        return auth_pb2.ListTokenRevocationsResponse(revocations=[revocation_message(r) for r in found])

    async def AuthenticateApiKey(self, request, context):
        principal.require_service()
        found = await self._auth.authenticate_api_key(
            ApiKeyCredentials(
                key_id=request.key_id,
                timestamp=request.timestamp,
                nonce=request.nonce,
                method=request.method,
                body_sha256=request.body_sha256,
                signature=request.signature,
            )
        )
        return auth_pb2.AuthenticateApiKeyResponse(
            user_id=found.user_id, role=found.role, permissions=sorted(found.permissions), username=found.username
        )


class UserServicer(user_pb2_grpc.UserServiceServicer):
    def __init__(self, users: UserUseCases) -> None:
        self._users = users

    async def CreateUser(self, request, context):
        actor = principal.require("user:create")
        view = await self._users.create(actor, request.username, request.email, request.password, request.role)
        return user_pb2.CreateUserResponse(user=user_message(view))

    async def GetUser(self, request, context):
        actor = principal.current()
        if not request.user_id:
            raise InvalidArgument("user_id", "required")
        return user_pb2.GetUserResponse(user=user_message(await self._users.get(actor, request.user_id)))

    async def ListUsers(self, request, context):
        principal.require("user:read")
        limit = pagination.page_size(request.page_size)
        after = _single_key("users", request.page_token)
        views, more = await self._users.list(
            UserFilter(
                username=request.username,
                email=request.email,
                role=request.role,
                active=request.active if request.HasField("active") else None,
            ),
            after,
            limit,
        )
        token = pagination.encode_cursor("users", [views[-1].user.username]) if more else ""
        return user_pb2.ListUsersResponse(users=[user_message(v) for v in views], next_page_token=token)

    async def UpdateUser(self, request, context):
        actor = principal.require("user:update")
        paths = set(request.update_mask.paths)
        unknown = paths - {"username", "email"}
        if unknown:
            raise InvalidArgument("update_mask", f"cannot update {sorted(unknown)}; allowed: username, email")
        if not paths:
            raise InvalidArgument("update_mask", "name at least one field: username, email")
        view = await self._users.update(
            actor,
            request.user_id,
            request.user.username if "username" in paths else None,
            request.user.email if "email" in paths else None,
        )
        return user_pb2.UpdateUserResponse(user=user_message(view))

    async def ActivateUser(self, request, context):
        actor = principal.require("user:update")
        return user_pb2.ActivateUserResponse(user=user_message(await self._users.set_active(actor, request.user_id, True)))

    async def DeactivateUser(self, request, context):
        actor = principal.require("user:update")
        view = await self._users.set_active(actor, request.user_id, False)
        return user_pb2.DeactivateUserResponse(user=user_message(view))

    async def ResetUserPassword(self, request, context):
        actor = principal.require("user:update")
        await self._users.reset_password(actor, request.user_id, request.new_password)
        return user_pb2.ResetUserPasswordResponse()

    async def ChangePassword(self, request, context):
        await self._users.change_own_password(principal.current(), request.old_password, request.new_password)
        return user_pb2.ChangePasswordResponse()

    async def GetMe(self, request, context):
        actor = principal.current()
        return user_pb2.GetMeResponse(user=user_message(await self._users.get(actor, actor.user_id)))

    async def DeleteUser(self, request, context):
        actor = principal.require("user:delete")
        await self._users.delete(actor, request.user_id)
        return user_pb2.DeleteUserResponse()


class RoleServicer(role_pb2_grpc.RoleServiceServicer):
    def __init__(self, roles: RoleUseCases) -> None:
        self._roles = roles

    async def CreateRole(self, request, context):
        actor = principal.require("role:write")
        role = await self._roles.create(actor, request.name, request.description, list(request.permissions))
        return role_pb2.CreateRoleResponse(role=role_message(role))

    async def GetRole(self, request, context):
        principal.require("role:read")
        return role_pb2.GetRoleResponse(role=role_message(await self._roles.get(request.name)))

    async def ListRoles(self, request, context):
        principal.require("role:read")
        limit = pagination.page_size(request.page_size)
        roles, more = await self._roles.list(_single_key("roles", request.page_token), limit)
        token = pagination.encode_cursor("roles", [roles[-1].name]) if more else ""
        return role_pb2.ListRolesResponse(roles=[role_message(r) for r in roles], next_page_token=token)

    async def UpdateRole(self, request, context):
        actor = principal.require("role:write")
        role = await self._roles.update(actor, request.name, request.description)
        return role_pb2.UpdateRoleResponse(role=role_message(role))

    async def DeleteRole(self, request, context):
        actor = principal.require("role:write")
        await self._roles.delete(actor, request.name)
        return role_pb2.DeleteRoleResponse()

    async def AddRolePermissions(self, request, context):
        actor = principal.require("role:write")
        role = await self._roles.change_permissions(actor, request.name, list(request.permissions), grant=True)
        return role_pb2.AddRolePermissionsResponse(role=role_message(role))

    async def RemoveRolePermissions(self, request, context):
        actor = principal.require("role:write")
        role = await self._roles.change_permissions(actor, request.name, list(request.permissions), grant=False)
        return role_pb2.RemoveRolePermissionsResponse(role=role_message(role))

    async def ListPermissions(self, request, context):
        principal.require("role:read")
        limit = pagination.page_size(request.page_size)
        found, more = await self._roles.permissions(_single_key("permissions", request.page_token), limit)
        token = pagination.encode_cursor("permissions", [found[-1].name]) if more else ""
        return role_pb2.ListPermissionsResponse(
            permissions=[role_pb2.Permission(name=p.name, description=p.description) for p in found],
            next_page_token=token,
        )

    async def AssignUserRole(self, request, context):
        actor = principal.require("role:write")
        await self._roles.assign(actor, request.user_id, request.role)
        return role_pb2.AssignUserRoleResponse()


class ApiKeyServicer(api_key_pb2_grpc.ApiKeyServiceServicer):
    def __init__(self, keys: ApiKeyUseCases) -> None:
        self._keys = keys

    async def CreateApiKey(self, request, context):
        actor = principal.require("apikey:create")
        expires = from_timestamp(request.expire_time, "expire_time") if request.HasField("expire_time") else None
        key, secret = await self._keys.create(actor, request.name, expires)
        return api_key_pb2.CreateApiKeyResponse(api_key=api_key_message(key), secret=secret)

    async def ListApiKeys(self, request, context):
        actor = principal.require("apikey:read")
        limit = pagination.page_size(request.page_size)
        keys, more = await self._keys.list(actor, _single_key("api_keys", request.page_token), limit)
        token = pagination.encode_cursor("api_keys", [keys[-1].id]) if more else ""
        return api_key_pb2.ListApiKeysResponse(api_keys=[api_key_message(k) for k in keys], next_page_token=token)

    async def RevokeApiKey(self, request, context):
        actor = principal.require("apikey:revoke")
        await self._keys.revoke(actor, request.api_key_id)
        return api_key_pb2.RevokeApiKeyResponse()


class NotificationServicer(notification_pb2_grpc.NotificationServiceServicer):
    def __init__(self, notifications: NotificationUseCases) -> None:
        self._notifications = notifications

    async def ListNotifications(self, request, context):
        actor = principal.current()
        limit = pagination.page_size(request.page_size)
        found, more = await self._notifications.list(
            actor, request.unread_only, _pair_key("notifications", request.page_token), limit
        )
        token = pagination.encode_cursor("notifications", [iso(found[-1].created_at), found[-1].id]) if more else ""
        return notification_pb2.ListNotificationsResponse(
            notifications=[notification_message(n) for n in found], next_page_token=token
        )

    async def MarkNotificationRead(self, request, context):
        found = await self._notifications.mark_read(principal.current(), request.notification_id)
        return notification_pb2.MarkNotificationReadResponse(notification=notification_message(found))

    async def MarkAllNotificationsRead(self, request, context):
        count = await self._notifications.mark_all_read(principal.current())
        return notification_pb2.MarkAllNotificationsReadResponse(updated_count=count)

    async def DeleteNotification(self, request, context):
        await self._notifications.delete(principal.current(), request.notification_id)
        return notification_pb2.DeleteNotificationResponse()

    async def SendNotification(self, request, context):
        principal.require("notification:create")
        found = await self._notifications.send(request.user_id, request.title, request.body)
        return notification_pb2.SendNotificationResponse(notification=notification_message(found))


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, audit: AuditUseCases) -> None:
        self._audit = audit

    async def ListAuditEntries(self, request, context):
        principal.require("audit:read")
        limit = pagination.page_size(request.page_size)
        found, more = await self._audit.list(
            AuditFilter(
                actor_user_id=request.actor_user_id,
                service=request.service,
                method=request.method,
                result_code=request.result_code,
                start=from_timestamp(request.start_time, "start_time") if request.HasField("start_time") else None,
                end=from_timestamp(request.end_time, "end_time") if request.HasField("end_time") else None,
            ),
            _pair_key("audit", request.page_token),
            limit,
        )
        token = pagination.encode_cursor("audit", [iso(found[-1].time), found[-1].id]) if more else ""
        return audit_pb2.ListAuditEntriesResponse(entries=[audit_message(e) for e in found], next_page_token=token)
