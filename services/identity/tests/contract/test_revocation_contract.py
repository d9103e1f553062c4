"""Sessions end when rights end: every revoking change refuses older access tokens with TOKEN_REVOKED,
a token minted after it works, and the service-only RPCs refuse anonymous and user callers."""

from __future__ import annotations

import grpc
import pytest

from zquant.common.v1 import token_verification_pb2 as verification_pb2
from zquant.identity.v1 import api_key_pb2, auth_pb2, role_pb2, user_pb2
from zquant_identity.adapters.sqlalchemy import tables
from zquant_kit.grpc.client import bearer
from zquant_kit.service_credential import SERVICE_TOKEN_HEADER
from zquant_kit.testing import refused_within

pytestmark = pytest.mark.contract
C = grpc.StatusCode
PASSWORD = "Secret-pass-1"


@pytest.fixture
def refused(identity):
    """`await refused(metadata)`: GetMe with that token fails with TOKEN_REVOKED within 2 s."""

    async def check(metadata, seconds: float = 2.0) -> None:
        error = await refused_within(
            lambda: identity.users.GetMe(user_pb2.GetMeRequest(), metadata=metadata),
            seconds,
            "old token still accepted after 2 s",
        )
        assert error.code() == C.UNAUTHENTICATED, error.details()
        assert "revoked" in (error.details() or "")

    return check


async def fresh(identity, username: str, password: str = PASSWORD):
    return bearer((await identity.login(username, password)).access_token)


async def test_demoted_admin_cannot_use_its_old_token_to_become_admin_again(
    identity, admin, make_user, refused, expect_error
):
    boss, boss_token = await make_user("boss", "admin")
    await identity.roles.AssignUserRole(
        role_pb2.AssignUserRoleRequest(user_id=boss.id, role="viewer"), metadata=admin
    )
    await refused(boss_token)
    found = await expect_error(
        identity.roles.AssignUserRole(
            role_pb2.AssignUserRoleRequest(user_id=boss.id, role="admin"), metadata=boss_token
        ),
        C.UNAUTHENTICATED,
    )
    assert found.reason == "TOKEN_REVOKED"
    viewer = await fresh(identity, "boss")
    await expect_error(
        identity.roles.AssignUserRole(
            role_pb2.AssignUserRoleRequest(user_id=boss.id, role="admin"), metadata=viewer
        ),
        C.PERMISSION_DENIED,
    )
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=viewer)).user
    assert me.role == "viewer"


async def test_deactivation_and_deletion_refuse_old_tokens(identity, admin, make_user, refused, expect_error):
    rita, rita_token = await make_user("rita")
    await identity.users.DeactivateUser(user_pb2.DeactivateUserRequest(user_id=rita.id), metadata=admin)
    await refused(rita_token)
    await identity.users.ActivateUser(user_pb2.ActivateUserRequest(user_id=rita.id), metadata=admin)
    await refused(rita_token)  # reactivation does not bring old tokens back
    again = await fresh(identity, "rita")
    assert (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=again)).user.id == rita.id

    await identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id=rita.id), metadata=admin)
    await refused(again)


async def test_password_change_and_reset_refuse_old_tokens(identity, admin, make_user, refused):
    rita, before_change = await make_user("rita")
    await identity.users.ChangePassword(
        user_pb2.ChangePasswordRequest(old_password=PASSWORD, new_password="Changed-pass-2"),
        metadata=before_change,
    )
    await refused(before_change)
    before_reset = await fresh(identity, "rita", "Changed-pass-2")
    await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=before_reset)

    await identity.users.ResetUserPassword(
        user_pb2.ResetUserPasswordRequest(user_id=rita.id, new_password="Reset-pass-3"), metadata=admin
    )
    await refused(before_reset)
    await identity.users.GetMe(
        user_pb2.GetMeRequest(), metadata=await fresh(identity, "rita", "Reset-pass-3")
    )


async def test_logout_everywhere_ends_every_session(identity, make_user, refused, expect_error):
    await make_user("rita")
    laptop = await identity.login("rita", PASSWORD)
    phone = await identity.login("rita", PASSWORD)
    await identity.auth.LogoutAll(auth_pb2.LogoutAllRequest(), metadata=bearer(laptop.access_token))
    await refused(bearer(laptop.access_token))
    await refused(bearer(phone.access_token))
    for session in (laptop, phone):
        found = await expect_error(
            identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=session.refresh_token)),
            C.UNAUTHENTICATED,
        )
        assert found.reason == "REFRESH_TOKEN_INVALID"
    await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=await fresh(identity, "rita"))
    found = await expect_error(identity.auth.LogoutAll(auth_pb2.LogoutAllRequest()), C.UNAUTHENTICATED)
    assert found.reason != "TOKEN_REVOKED"


async def test_role_permission_change_refuses_every_holders_old_token(
    identity, admin, make_user, refused, expect_error, count_rows
):
    await identity.roles.CreateRole(
        role_pb2.CreateRoleRequest(
            name="keyholder", description="", permissions=["apikey:create", "apikey:read"]
        ),
        metadata=admin,
    )
    _, first = await make_user("first", "keyholder")
    _, second = await make_user("second", "keyholder")
    _, bystander = await make_user("bystander", "researcher")
    await identity.roles.RemoveRolePermissions(
        role_pb2.RemoveRolePermissionsRequest(name="keyholder", permissions=["apikey:create"]), metadata=admin
    )
    await refused(first)
    await refused(second)
    await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=bystander)
    current = await fresh(identity, "first")
    found = await expect_error(
        identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="k"), metadata=current),
        C.PERMISSION_DENIED,
    )
    assert "apikey:create" in found.message

    await identity.roles.AddRolePermissions(
        role_pb2.AddRolePermissionsRequest(name="keyholder", permissions=["apikey:create"]), metadata=admin
    )
    await refused(current)
    granted = await fresh(identity, "first")
    await identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="k"), metadata=granted)
    revoked_events = tables.outbox.c.event_type == "identity.token.revoked.v1"
    assert await count_rows(tables.outbox, revoked_events) == 2


async def test_service_only_rpcs_refuse_anonymous_users_and_wrong_secrets(
    identity, admin, make_user, service, expect_error
):
    _, researcher = await make_user("rita")
    wrong = [(SERVICE_TOKEN_HEADER, "x" * 64)]
    calls = (
        lambda md: identity.verification.AuthenticateApiKey(
            verification_pb2.AuthenticateApiKeyRequest(key_id="zqak_x"), metadata=md
        ),
        lambda md: identity.verification.ListTokenRevocations(
            verification_pb2.ListTokenRevocationsRequest(), metadata=md
        ),
    )
    for call in calls:
        found = await expect_error(call(None), C.UNAUTHENTICATED)
        assert found.reason != "TOKEN_REVOKED"
        found = await expect_error(call(wrong), C.UNAUTHENTICATED)
        assert found.reason == "SERVICE_TOKEN_INVALID"
        for user in (researcher, admin):
            found = await expect_error(call(user), C.PERMISSION_DENIED)
            assert found.reason == "SERVICE_CREDENTIAL_REQUIRED"

    rita = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=researcher)).user
    await identity.users.DeactivateUser(user_pb2.DeactivateUserRequest(user_id=rita.id), metadata=admin)
    listed = await identity.verification.ListTokenRevocations(
        verification_pb2.ListTokenRevocationsRequest(), metadata=service
    )
    assert rita.id in {r.user_id for r in listed.revocations}
    since = listed.revocations[-1].not_before_time
    later = await identity.verification.ListTokenRevocations(
        verification_pb2.ListTokenRevocationsRequest(since_time=since), metadata=service
    )
    assert [r.user_id for r in later.revocations] == [rita.id]
    # A public key is public: GetVerificationKeys needs no credential.
    assert (
        await identity.verification.GetVerificationKeys(verification_pb2.GetVerificationKeysRequest())
    ).keys
