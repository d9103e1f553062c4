"""Bounds declared in the proto reach the client before any handler runs: INVALID_ARGUMENT, one FieldViolation
per bad field, a short message, and nothing of the bad input beyond about a hundred characters."""

from __future__ import annotations

import grpc
import pytest

from zquant.identity.v1 import api_key_pb2, audit_pb2, notification_pb2, role_pb2, user_pb2

pytestmark = pytest.mark.contract

C = grpc.StatusCode
HUGE = "x" * 10_000_000


async def test_an_out_of_range_timestamp_is_refused(identity, admin, expect_error):
    request = api_key_pb2.CreateApiKeyRequest(name="script")
    request.expire_time.seconds = 10**15
    found = await expect_error(identity.api_keys.CreateApiKey(request, metadata=admin), C.INVALID_ARGUMENT)
    assert found.fields == ["expire_time"]
    request = audit_pb2.ListAuditEntriesRequest()
    request.start_time.nanos = -1
    found = await expect_error(identity.audit.ListAuditEntries(request, metadata=admin), C.INVALID_ARGUMENT)
    assert found.fields == ["start_time"]


async def test_a_ten_megabyte_string_comes_back_as_a_short_error(identity, admin, expect_error):
    found = await expect_error(
        identity.users.ListUsers(user_pb2.ListUsersRequest(username=HUGE), metadata=admin), C.INVALID_ARGUMENT
    )
    assert found.fields == ["username"] and found.message == "username: must be at most 64 characters"
    found = await expect_error(
        identity.roles.CreateRole(role_pb2.CreateRoleRequest(name="r", permissions=[HUGE]), metadata=admin),
        C.INVALID_ARGUMENT,
    )
    assert found.fields == ["permissions[0]"] and len(found.message) < 200


async def test_every_bad_field_is_named_once(identity, admin, expect_error):
    found = await expect_error(
        identity.notifications.SendNotification(
            notification_pb2.SendNotificationRequest(user_id="u\x00", title="t" * 201, body="b" * 10_001),
            metadata=admin,
        ),
        C.INVALID_ARGUMENT,
    )
    assert sorted(found.fields) == ["body", "title", "user_id"]
    assert found.message.endswith("(and 2 more)")


async def test_authentication_comes_before_bounds(identity, expect_error):
    await expect_error(identity.users.ListUsers(user_pb2.ListUsersRequest(username=HUGE)), C.UNAUTHENTICATED)
