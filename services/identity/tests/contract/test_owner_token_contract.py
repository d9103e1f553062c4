"""OwnerTokenService over a real server: only a service may act for a user, and only with rights the user holds
now; the token it gets is an ordinary access token (verified and revoked like a login token), marked delegated."""

from __future__ import annotations

import grpc
import jwt
import pytest

from zquant.common.v1 import owner_token_pb2 as pb
from zquant.common.v1 import owner_token_pb2_grpc as pb_grpc
from zquant.identity.v1 import audit_pb2, auth_pb2, user_pb2
from zquant_kit.grpc.client import bearer

pytestmark = pytest.mark.contract
C = grpc.StatusCode


@pytest.fixture
def owner_tokens(identity):
    return pb_grpc.OwnerTokenServiceStub(identity.channel)


def _ask(user_id: str, *scopes: str, ttl: int = 0) -> pb.IssueOwnerTokenRequest:
    return pb.IssueOwnerTokenRequest(
        user_id=user_id, scopes=list(scopes), acting_service="scheduler", ttl_seconds=ttl
    )


async def test_only_a_service_may_act_for_a_user(
    identity, owner_tokens, admin, make_user, service, expect_error
):
    user, metadata = await make_user("owner")
    await expect_error(owner_tokens.IssueOwnerToken(_ask(user.id, "data:read")), C.UNAUTHENTICATED)
    for caller in (metadata, admin):
        found = await expect_error(
            owner_tokens.IssueOwnerToken(_ask(user.id, "data:read"), metadata=caller), C.PERMISSION_DENIED
        )
        assert found.reason == "SERVICE_CREDENTIAL_REQUIRED"

    reply = await owner_tokens.IssueOwnerToken(
        _ask(user.id, "data:read", "factor:calculate", ttl=120), metadata=service
    )
    assert list(reply.scopes) == ["data:read", "factor:calculate"]
    claims = jwt.decode(reply.access_token, options={"verify_signature": False})
    assert claims["sub"] == user.id and claims["perms"] == ["data:read", "factor:calculate"]
    assert claims["act"] == {"sub": "service:scheduler"} and claims["exp"] - claims["iat"] == 120
    me = await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=bearer(reply.access_token))
    assert me.user.id == user.id  # verified like a login token
    await expect_error(
        identity.auth.LogoutAll(auth_pb2.LogoutAllRequest(), metadata=bearer(reply.access_token)),
        C.PERMISSION_DENIED,
    )

    entries = await identity.audit.ListAuditEntries(
        audit_pb2.ListAuditEntriesRequest(service="scheduler"), metadata=admin
    )
    assert [e.target for e in entries.entries] == [f"user_id={user.id} scopes=data:read,factor:calculate"]


async def test_scopes_beyond_the_users_current_rights_are_refused(
    owner_tokens, make_user, service, expect_error
):
    user, _ = await make_user("viewer_owner", "viewer")
    found = await expect_error(
        owner_tokens.IssueOwnerToken(_ask(user.id, "data:read", "data:sync"), metadata=service),
        C.PERMISSION_DENIED,
    )
    assert "'data:sync'" in found.message and found.reason == "OWNER_PERMISSION_MISSING"
    unknown = await expect_error(
        owner_tokens.IssueOwnerToken(_ask(user.id, "data:fly"), metadata=service), C.INVALID_ARGUMENT
    )
    assert unknown.fields == ["scopes[0]"]
    bounds = await expect_error(
        owner_tokens.IssueOwnerToken(_ask(user.id, "data:read", ttl=5), metadata=service), C.INVALID_ARGUMENT
    )
    assert bounds.fields == ["ttl_seconds"]


async def test_a_deactivated_or_deleted_owner_gets_no_token(
    identity, owner_tokens, admin, make_user, service, expect_error
):
    user, _ = await make_user("leaver")
    await identity.users.DeactivateUser(user_pb2.DeactivateUserRequest(user_id=user.id), metadata=admin)
    found = await expect_error(
        owner_tokens.IssueOwnerToken(_ask(user.id, "data:read"), metadata=service), C.FAILED_PRECONDITION
    )
    assert found.reason == "ACCOUNT_INACTIVE"
    await identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id=user.id), metadata=admin)
    await expect_error(
        owner_tokens.IssueOwnerToken(_ask(user.id, "data:read"), metadata=service), C.NOT_FOUND
    )
