"""Identity's published events, typed by the proto contract."""

from __future__ import annotations

import datetime as dt

from zquant.common.v1 import revocation_pb2
from zquant.identity.v1 import events_pb2
from zquant_identity.domain.model import User
from zquant_kit.events.model import Event
from zquant_kit.revocation import TOKEN_REVOKED, Revocation
from zquant_kit.timestamps import timestamp, timestamp_of_micros

USER_CREATED = "identity.user.created.v1"
USER_DELETED = "identity.user.deleted.v1"
AUDIT_RECORDED_PATTERN = "*.audit.recorded.v1"
NOTIFICATION_REQUESTED_PATTERN = "*.notification.requested.v1"


def user_created(user: User, now: dt.datetime) -> Event:
    return Event.create(
        USER_CREATED,
        events_pb2.UserCreatedEvent(
            user_id=user.id, username=user.username, role=user.role, occur_time=timestamp(now)
        ),
    )


def user_deleted(user_id: str, now: dt.datetime) -> Event:
    return Event.create(USER_DELETED, events_pb2.UserDeletedEvent(user_id=user_id, occur_time=timestamp(now)))


def token_revoked(revocation: Revocation, cause: str) -> Event:
    stamp = timestamp_of_micros(revocation.not_before_us)
    return Event.create(
        TOKEN_REVOKED,
        revocation_pb2.TokenRevokedEvent(
            user_id=revocation.user_id, role=revocation.role, not_before_time=stamp, cause=cause
        ),
    )
