"""Domain values → identity proto messages, shared by the servicers."""

from __future__ import annotations

import datetime as dt

from zquant.common.v1 import audit_pb2 as common_audit_pb2
from zquant.common.v1 import token_verification_pb2
from zquant.identity.v1 import api_key_pb2, auth_pb2, notification_pb2, role_pb2, user_pb2
from zquant_identity.application.auth import TokenPair
from zquant_identity.application.views import UserView
from zquant_identity.domain.model import ApiKey, AuditEntry, Notification, Role
from zquant_kit.clock import as_utc
from zquant_kit.grpc.convert import same_named, to_timestamp
from zquant_kit.revocation import Revocation
from zquant_kit.timestamps import timestamp_of_micros


def iso(value: dt.datetime) -> str:
    return as_utc(value).isoformat()


def user_message(view: UserView) -> user_pb2.User:
    u = view.user
    return user_pb2.User(
        **same_named(u, "id", "username", "email", "role", "active"),
        create_time=to_timestamp(u.created_at),
        update_time=to_timestamp(u.updated_at),
        permissions=view.permissions,
    )


def role_message(role: Role) -> role_pb2.Role:
    return role_pb2.Role(
        name=role.name,
        description=role.description,
        permissions=role.permissions,
        create_time=to_timestamp(role.created_at),
    )


def api_key_message(key: ApiKey) -> api_key_pb2.ApiKey:
    return api_key_pb2.ApiKey(
        id=key.id,
        name=key.name,
        create_time=to_timestamp(key.created_at),
        expire_time=to_timestamp(key.expires_at),
        last_used_time=to_timestamp(key.last_used_at),
        revoked=key.revoked_at is not None,
    )


def notification_message(n: Notification) -> notification_pb2.Notification:
    return notification_pb2.Notification(
        **same_named(n, "id", "user_id", "title", "body", "read"), create_time=to_timestamp(n.created_at)
    )


def audit_message(e: AuditEntry) -> common_audit_pb2.AuditRecordedEvent:
    return common_audit_pb2.AuditRecordedEvent(
        **same_named(e, "actor_user_id", "service", "method", "target", "result_code", "client_address"),
        entry_id=e.id,
        time=to_timestamp(e.time),
    )


def pair_message(pair: TokenPair) -> auth_pb2.TokenPair:
    return auth_pb2.TokenPair(
        access_token=pair.access_token,
        access_token_expire_time=to_timestamp(pair.access_expires_at),
        refresh_token=pair.refresh_token,
        refresh_token_expire_time=to_timestamp(pair.refresh_expires_at),
        token_type="Bearer",
    )


def revocation_message(revocation: Revocation) -> token_verification_pb2.TokenRevocation:
    stamp = timestamp_of_micros(revocation.not_before_us)
    return token_verification_pb2.TokenRevocation(
        user_id=revocation.user_id, role=revocation.role, not_before_time=stamp
    )
