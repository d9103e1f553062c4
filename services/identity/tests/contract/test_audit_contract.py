"""AuditService contract: mutating RPCs land in the audit log (via outbox → consumer); admins query it."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf import timestamp_pb2

from zquant.common.v1 import audit_pb2 as common_audit_pb2
from zquant.identity.v1 import audit_pb2, user_pb2
from zquant_kit.grpc.client import bearer
from zquant_kit.testing import walk_pages

pytestmark = pytest.mark.contract
C = grpc.StatusCode
USERS = "/zquant.identity.v1.UserService"


def entries_of(identity, admin, **filters):
    async def fetch() -> list[common_audit_pb2.AuditRecordedEvent]:
        request = audit_pb2.ListAuditEntriesRequest(page_size=1000, **filters)
        return list((await identity.audit.ListAuditEntries(request, metadata=admin)).entries)

    return fetch


async def test_mutating_calls_are_audited_with_actor_and_result(
    identity, admin, make_user, expect_error, eventually
):
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    rita, researcher = await make_user("rita")  # CreateUser by the admin
    await expect_error(
        identity.users.CreateUser(user_pb2.CreateUserRequest(username="eve"), metadata=researcher),
        C.PERMISSION_DENIED,
    )
    await expect_error(
        identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id="ghost"), metadata=admin), C.NOT_FOUND
    )
    await expect_error(
        identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id="ghost")), C.UNAUTHENTICATED
    )

    entries = await eventually(entries_of(identity, admin, service="identity"), lambda found: len(found) >= 6)
    calls = {(e.method, e.actor_user_id, e.result_code, e.target) for e in entries}
    assert (f"{USERS}/CreateUser", me.id, "OK", "username=rita") in calls
    assert (f"{USERS}/CreateUser", rita.id, "PERMISSION_DENIED", "username=eve") in calls
    assert (f"{USERS}/DeleteUser", me.id, "NOT_FOUND", "user_id=ghost") in calls
    assert (f"{USERS}/DeleteUser", "", "UNAUTHENTICATED", "user_id=ghost") in calls
    assert not [e for e in entries if e.method.endswith(("/GetMe", "/ListAuditEntries"))], (
        "reads are not audited"
    )
    created = next(e for e in entries if e.method == f"{USERS}/CreateUser" and e.result_code == "OK")
    assert created.entry_id and created.service == "identity" and created.client_address
    assert abs(created.time.ToDatetime(tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)

    assert [e.method for e in await entries_of(identity, admin, result_code="NOT_FOUND")()] == [
        f"{USERS}/DeleteUser"
    ]
    assert {e.result_code for e in await entries_of(identity, admin, actor_user_id=rita.id)()} == {
        "PERMISSION_DENIED"
    }
    assert len(await entries_of(identity, admin, method=f"{USERS}/CreateUser")()) == 2
    long_ago = timestamp_pb2.Timestamp(seconds=946684800)  # 2000-01-01
    assert await entries_of(identity, admin, end_time=long_ago)() == []
    assert len(await entries_of(identity, admin, start_time=long_ago)()) == len(entries)

    seen, _ = await walk_pages(
        lambda token: identity.audit.ListAuditEntries(
            audit_pb2.ListAuditEntriesRequest(page_size=2, page_token=token, service="identity"),
            metadata=admin,
        ),
        lambda page: page.entries,
    )
    assert [e.entry_id for e in seen] == [e.entry_id for e in entries]  # every entry once, newest first
    assert [e.time.ToDatetime() for e in seen] == sorted((e.time.ToDatetime() for e in seen), reverse=True)


async def test_list_audit_entries_needs_audit_read_and_valid_paging(identity, admin, make_user, expect_error):
    _, researcher = await make_user("rita")
    await expect_error(
        identity.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest()), C.UNAUTHENTICATED
    )
    await expect_error(
        identity.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(), metadata=bearer("not.a.jwt")),
        C.UNAUTHENTICATED,
    )
    found = await expect_error(
        identity.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(), metadata=researcher),
        C.PERMISSION_DENIED,
    )
    assert "audit:read" in found.message
    for request, field in (
        (audit_pb2.ListAuditEntriesRequest(page_token="garbage!"), "page_token"),
        (audit_pb2.ListAuditEntriesRequest(page_size=-1), "page_size"),
    ):
        found = await expect_error(
            identity.audit.ListAuditEntries(request, metadata=admin), C.INVALID_ARGUMENT
        )
        assert found.fields == [field]


async def test_an_overlong_request_id_does_not_block_the_audit_trail(
    identity, admin, expect_error, eventually
):
    await expect_error(
        identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id="x" * 250), metadata=admin),
        C.INVALID_ARGUMENT,
    )
    await identity.users.CreateUser(
        user_pb2.CreateUserRequest(username="bob", email="bob@example.com", password="Secret-pass-1"),
        metadata=admin,
    )
    wanted = {f"{USERS}/DeleteUser", f"{USERS}/CreateUser"}
    entries = await eventually(entries_of(identity, admin), lambda found: wanted <= {e.method for e in found})
    assert wanted <= {e.method for e in entries}
