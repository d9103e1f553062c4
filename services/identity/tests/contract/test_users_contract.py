"""UserService contract: every RPC's success path and each error code it can return."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from zquant.identity.v1 import auth_pb2, role_pb2, user_pb2
from zquant_identity.domain.rules import PERMISSIONS, SEED_ROLES
from zquant_kit.grpc.client import bearer
from zquant_kit.testing import walk_pages

pytestmark = pytest.mark.contract
C = grpc.StatusCode


def create_request(username: str, **overrides) -> user_pb2.CreateUserRequest:
    values = {"username": username, "email": f"{username}@example.com", "password": "Secret-pass-1"}
    values.update(overrides)
    return user_pb2.CreateUserRequest(**values)


async def test_every_user_rpc_requires_credentials(identity, expect_error):
    users = identity.users
    calls = [
        (users.CreateUser, create_request("alice")),
        (users.GetUser, user_pb2.GetUserRequest(user_id="x")),
        (users.ListUsers, user_pb2.ListUsersRequest()),
        (users.UpdateUser, user_pb2.UpdateUserRequest(user_id="x")),
        (users.ActivateUser, user_pb2.ActivateUserRequest(user_id="x")),
        (users.DeactivateUser, user_pb2.DeactivateUserRequest(user_id="x")),
        (users.ResetUserPassword, user_pb2.ResetUserPasswordRequest(user_id="x")),
        (users.ChangePassword, user_pb2.ChangePasswordRequest()),
        (users.GetMe, user_pb2.GetMeRequest()),
        (users.DeleteUser, user_pb2.DeleteUserRequest(user_id="x")),
    ]
    for rpc, request in calls:
        missing = await expect_error(rpc(request), C.UNAUTHENTICATED)
        assert missing.reason == "UNAUTHENTICATED"
        garbage = await expect_error(rpc(request, metadata=bearer("not.a.jwt")), C.UNAUTHENTICATED)
        assert garbage.reason == "TOKEN_INVALID"


async def test_create_user_defaults_to_researcher_and_normalises_email(identity, admin):
    created = (
        await identity.users.CreateUser(create_request("alice", email="Alice@Example.COM"), metadata=admin)
    ).user
    assert created.id and created.username == "alice" and created.active
    assert created.email == "alice@example.com"
    assert created.role == "researcher"
    assert list(created.permissions) == sorted(SEED_ROLES["researcher"][1])
    assert created.HasField("create_time") and created.HasField("update_time")

    viewer = (await identity.users.CreateUser(create_request("victor", role="viewer"), metadata=admin)).user
    assert viewer.role == "viewer"
    assert list(viewer.permissions) == sorted(SEED_ROLES["viewer"][1])
    assert (await identity.login("alice", "Secret-pass-1")).access_token


async def test_create_user_names_the_invalid_field(identity, admin, expect_error):
    cases = [
        ({"username": "ab"}, "username"),
        ({"username": "bad name"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"password": "Short-1"}, "password"),
        ({"password": "onlylowercaseletters"}, "password"),
        ({"role": "no-such-role"}, "role"),
    ]
    for overrides, field in cases:
        request = create_request(overrides.pop("username", "alice"), **overrides)
        found = await expect_error(identity.users.CreateUser(request, metadata=admin), C.INVALID_ARGUMENT)
        assert found.fields == [field], overrides
        assert found.reason == "INVALID_ARGUMENT"
        assert found.message.startswith(f"{field}:")


async def test_create_user_rejects_duplicate_username_and_email(identity, admin, expect_error):
    await identity.users.CreateUser(create_request("alice"), metadata=admin)

    same_name = create_request("alice", email="other@example.com")
    found = await expect_error(identity.users.CreateUser(same_name, metadata=admin), C.ALREADY_EXISTS)
    assert (found.resource_type, found.resource_name) == ("user", "alice")
    assert "username" in found.message

    same_email = create_request("alicia", email="ALICE@example.com")
    found = await expect_error(identity.users.CreateUser(same_email, metadata=admin), C.ALREADY_EXISTS)
    assert (found.resource_type, found.resource_name) == ("user", "alice@example.com")


async def test_create_user_needs_the_user_create_permission(identity, admin, make_user, expect_error):
    _, viewer = await make_user("victor", "viewer")
    _, researcher = await make_user("rita", "researcher")
    for caller in (viewer, researcher):
        found = await expect_error(
            identity.users.CreateUser(create_request("mallory"), metadata=caller), C.PERMISSION_DENIED
        )
        assert found.reason == "PERMISSION_DENIED"
        assert "user:create" in found.message
    listed = await identity.users.ListUsers(user_pb2.ListUsersRequest(username="mallory"), metadata=admin)
    assert list(listed.users) == []


async def test_get_user_allows_self_or_user_read(identity, admin, make_user, expect_error):
    rita, researcher = await make_user("rita")
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user

    assert (
        await identity.users.GetUser(user_pb2.GetUserRequest(user_id=rita.id), metadata=admin)
    ).user == rita
    assert (
        await identity.users.GetUser(user_pb2.GetUserRequest(user_id=rita.id), metadata=researcher)
    ).user == rita
    found = await expect_error(
        identity.users.GetUser(user_pb2.GetUserRequest(user_id=me.id), metadata=researcher),
        C.PERMISSION_DENIED,
    )
    assert "user:read" in found.message

    found = await expect_error(
        identity.users.GetUser(user_pb2.GetUserRequest(user_id="no-such-id"), metadata=admin), C.NOT_FOUND
    )
    assert (found.resource_type, found.resource_name) == ("user", "no-such-id")
    found = await expect_error(
        identity.users.GetUser(user_pb2.GetUserRequest(), metadata=admin), C.INVALID_ARGUMENT
    )
    assert found.fields == ["user_id"]


async def test_list_users_walks_every_page_once_and_filters(identity, admin):
    for username, role in (
        ("alice", "researcher"),
        ("alina", "viewer"),
        ("bob", "researcher"),
        ("carol", "viewer"),
    ):
        await identity.users.CreateUser(create_request(username, role=role), metadata=admin)
    carol = (
        await identity.users.ListUsers(user_pb2.ListUsersRequest(username="carol"), metadata=admin)
    ).users[0]
    await identity.users.DeactivateUser(user_pb2.DeactivateUserRequest(user_id=carol.id), metadata=admin)

    async def walk(page_size: int, **filters) -> tuple[list[str], int]:
        users, pages = await walk_pages(
            lambda token: identity.users.ListUsers(
                user_pb2.ListUsersRequest(page_size=page_size, page_token=token, **filters), metadata=admin
            ),
            lambda page: page.users,
            page_size,
        )
        return [u.username for u in users], pages

    usernames, pages = await walk(2)
    assert usernames == ["admin", "alice", "alina", "bob", "carol"]  # ordered, each exactly once
    assert pages == 3

    assert (await walk(50, username="ali"))[0] == ["alice", "alina"]
    assert (await walk(50, email="bob@"))[0] == ["bob"]
    assert (await walk(50, role="viewer"))[0] == ["alina", "carol"]
    assert (await walk(50, active=False))[0] == ["carol"]
    assert (await walk(50, active=True))[0] == ["admin", "alice", "alina", "bob"]
    assert await walk(1, role="researcher") == (["alice", "bob"], 2)  # filters hold across pages
    assert (await walk(50, username="_"))[0] == []  # LIKE wildcards are matched literally
    assert (await walk(50, username="%"))[0] == []


async def test_list_users_rejects_bad_page_arguments_and_non_readers(
    identity, admin, make_user, expect_error
):
    roles_token = (
        await identity.roles.ListRoles(role_pb2.ListRolesRequest(page_size=1), metadata=admin)
    ).next_page_token
    assert roles_token
    for token in ("garbage!", "bm90IGpzb24", roles_token):  # not base64, not JSON, another list's cursor
        found = await expect_error(
            identity.users.ListUsers(user_pb2.ListUsersRequest(page_token=token), metadata=admin),
            C.INVALID_ARGUMENT,
        )
        assert found.fields == ["page_token"]
    found = await expect_error(
        identity.users.ListUsers(user_pb2.ListUsersRequest(page_size=-1), metadata=admin), C.INVALID_ARGUMENT
    )
    assert found.fields == ["page_size"]

    _, researcher = await make_user("rita")
    await expect_error(
        identity.users.ListUsers(user_pb2.ListUsersRequest(), metadata=researcher), C.PERMISSION_DENIED
    )


async def test_update_user_applies_masked_fields_only(identity, admin, make_user, expect_error):
    rita, researcher = await make_user("rita")
    await make_user("bob")

    def update(paths, user_id=rita.id, **fields):
        return identity.users.UpdateUser(
            user_pb2.UpdateUserRequest(
                user_id=user_id,
                user=user_pb2.User(**fields),
                update_mask=field_mask_pb2.FieldMask(paths=paths),
            ),
            metadata=admin,
        )

    updated = (await update(["email"], username="ignored", email="Rita.New@Example.com")).user
    assert (updated.username, updated.email) == ("rita", "rita.new@example.com")
    assert updated.update_time.ToDatetime() > rita.update_time.ToDatetime()
    updated = (await update(["username"], username="rita2")).user
    assert updated.username == "rita2"

    for paths, field in (([], "update_mask"), (["role"], "update_mask")):
        found = await expect_error(update(paths, role="admin"), C.INVALID_ARGUMENT)
        assert found.fields == [field]
    found = await expect_error(update(["username"], username="x"), C.INVALID_ARGUMENT)
    assert found.fields == ["user.username"]
    found = await expect_error(update(["email"], email="nope"), C.INVALID_ARGUMENT)
    assert found.fields == ["user.email"]

    found = await expect_error(update(["username"], username="bob"), C.ALREADY_EXISTS)
    assert found.resource_name == "bob"
    found = await expect_error(update(["email"], email="bob@example.com"), C.ALREADY_EXISTS)
    assert found.resource_name == "bob@example.com"
    found = await expect_error(update(["email"], user_id="no-such-id", email="z@example.com"), C.NOT_FOUND)
    assert (found.resource_type, found.resource_name) == ("user", "no-such-id")

    request = user_pb2.UpdateUserRequest(
        user_id=rita.id,
        user=user_pb2.User(email="r@example.com"),
        update_mask=field_mask_pb2.FieldMask(paths=["email"]),
    )
    await expect_error(identity.users.UpdateUser(request, metadata=researcher), C.PERMISSION_DENIED)


async def test_deactivate_blocks_login_and_refresh_until_activated(identity, admin, make_user, expect_error):
    rita, _ = await make_user("rita")
    session = await identity.login("rita", "Secret-pass-1")

    deactivated = await identity.users.DeactivateUser(
        user_pb2.DeactivateUserRequest(user_id=rita.id), metadata=admin
    )
    assert not deactivated.user.active
    found = await expect_error(
        identity.auth.Login(auth_pb2.LoginRequest(username="rita", password="Secret-pass-1")),
        C.UNAUTHENTICATED,
    )
    assert found.reason == "BAD_CREDENTIALS"  # as for a wrong password: the answer tells nothing
    found = await expect_error(
        identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=session.refresh_token)), C.UNAUTHENTICATED
    )
    assert found.reason == "ACCOUNT_INACTIVE"

    activated = await identity.users.ActivateUser(
        user_pb2.ActivateUserRequest(user_id=rita.id), metadata=admin
    )
    assert activated.user.active
    assert (await identity.login("rita", "Secret-pass-1")).access_token


async def test_activate_and_deactivate_errors(identity, admin, make_user, expect_error):
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    found = await expect_error(
        identity.users.DeactivateUser(user_pb2.DeactivateUserRequest(user_id=me.id), metadata=admin),
        C.FAILED_PRECONDITION,
    )
    assert found.reason == "SELF_DEACTIVATION"

    rita, researcher = await make_user("rita")
    for rpc, request_type in (
        (identity.users.ActivateUser, user_pb2.ActivateUserRequest),
        (identity.users.DeactivateUser, user_pb2.DeactivateUserRequest),
    ):
        found = await expect_error(rpc(request_type(user_id="no-such-id"), metadata=admin), C.NOT_FOUND)
        assert (found.resource_type, found.resource_name) == ("user", "no-such-id")
        found = await expect_error(rpc(request_type(), metadata=admin), C.INVALID_ARGUMENT)
        assert found.fields == ["user_id"]
        found = await expect_error(
            rpc(request_type(user_id=rita.id), metadata=researcher), C.PERMISSION_DENIED
        )
        assert "user:update" in found.message


async def test_reset_user_password_replaces_password_and_ends_sessions(
    identity, admin, make_user, expect_error
):
    rita, researcher = await make_user("rita")
    session = await identity.login("rita", "Secret-pass-1")

    def reset(user_id: str, password: str, metadata=admin):
        return identity.users.ResetUserPassword(
            user_pb2.ResetUserPasswordRequest(user_id=user_id, new_password=password), metadata=metadata
        )

    await reset(rita.id, "Brand-new-pass-2")
    found = await expect_error(
        identity.auth.Login(auth_pb2.LoginRequest(username="rita", password="Secret-pass-1")),
        C.UNAUTHENTICATED,
    )
    assert found.reason == "BAD_CREDENTIALS"
    found = await expect_error(
        identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=session.refresh_token)), C.UNAUTHENTICATED
    )
    assert found.reason == "REFRESH_TOKEN_INVALID"
    fresh = (await identity.login("rita", "Brand-new-pass-2")).access_token
    found = await expect_error(
        identity.users.GetMe(user_pb2.GetMeRequest(), metadata=researcher), C.UNAUTHENTICATED
    )
    assert found.reason == "TOKEN_REVOKED"
    researcher = bearer(fresh)

    assert (await expect_error(reset(rita.id, "weak"), C.INVALID_ARGUMENT)).fields == ["new_password"]
    assert (await expect_error(reset("", "Brand-new-pass-3"), C.INVALID_ARGUMENT)).fields == ["user_id"]
    found = await expect_error(reset("no-such-id", "Brand-new-pass-3"), C.NOT_FOUND)
    assert (found.resource_type, found.resource_name) == ("user", "no-such-id")
    await expect_error(reset(rita.id, "Brand-new-pass-3", metadata=researcher), C.PERMISSION_DENIED)


async def test_change_password_checks_old_and_new_password(identity, make_user, expect_error):
    _, researcher = await make_user("rita")
    session = await identity.login("rita", "Secret-pass-1")

    def change(old: str, new: str):
        return identity.users.ChangePassword(
            user_pb2.ChangePasswordRequest(old_password=old, new_password=new), metadata=researcher
        )

    for old, new, field in (
        ("", "Brand-new-pass-2", "old_password"),
        ("Wrong-pass-999", "Brand-new-pass-2", "old_password"),
        ("Secret-pass-1", "short", "new_password"),
        ("Secret-pass-1", "1234567890123", "new_password"),
        ("Secret-pass-1", "Secret-pass-1", "new_password"),
    ):
        found = await expect_error(change(old, new), C.INVALID_ARGUMENT)
        assert found.fields == [field], (old, new)

    await change("Secret-pass-1", "Brand-new-pass-2")
    assert (await identity.login("rita", "Brand-new-pass-2")).access_token
    found = await expect_error(
        identity.auth.Refresh(auth_pb2.RefreshRequest(refresh_token=session.refresh_token)), C.UNAUTHENTICATED
    )
    assert found.reason == "REFRESH_TOKEN_INVALID"


async def test_get_me_returns_the_caller_with_role_permissions(identity, admin, make_user):
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    assert (me.username, me.role, me.active) == ("admin", "admin", True)
    assert list(me.permissions) == sorted(PERMISSIONS)

    victor, viewer = await make_user("victor", "viewer")
    assert (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=viewer)).user == victor


async def test_delete_user_removes_the_user(identity, admin, make_user, expect_error):
    rita, rita_metadata = await make_user("rita")
    _, researcher = await make_user("rob")

    found = await expect_error(
        identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id=rita.id), metadata=researcher),
        C.PERMISSION_DENIED,
    )
    assert "user:delete" in found.message

    await identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id=rita.id), metadata=admin)
    found = await expect_error(
        identity.users.GetMe(user_pb2.GetMeRequest(), metadata=rita_metadata), C.UNAUTHENTICATED
    )
    assert found.reason == "TOKEN_REVOKED"  # the deleted user's token ends with the user
    for call in (
        identity.users.GetUser(user_pb2.GetUserRequest(user_id=rita.id), metadata=admin),
        identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id=rita.id), metadata=admin),
    ):
        found = await expect_error(call, C.NOT_FOUND)
        assert (found.resource_type, found.resource_name) == ("user", rita.id)
    found = await expect_error(
        identity.auth.Login(auth_pb2.LoginRequest(username="rita", password="Secret-pass-1")),
        C.UNAUTHENTICATED,
    )
    assert found.reason == "BAD_CREDENTIALS"
    found = await expect_error(
        identity.users.DeleteUser(user_pb2.DeleteUserRequest(), metadata=admin), C.INVALID_ARGUMENT
    )
    assert found.fields == ["user_id"]


async def test_delete_user_refuses_self_and_the_last_admin(identity, admin, make_user, expect_error):
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    found = await expect_error(
        identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id=me.id), metadata=admin),
        C.FAILED_PRECONDITION,
    )
    assert found.reason == "SELF_DELETION"

    # A non-admin allowed to delete users cannot delete an admin at all.
    await identity.roles.CreateRole(
        role_pb2.CreateRoleRequest(name="user-deleter", permissions=["user:delete"]), metadata=admin
    )
    _, deleter = await make_user("dora", "user-deleter")
    second_admin, _ = await make_user("adam", "admin")
    found = await expect_error(
        identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id=second_admin.id), metadata=deleter),
        C.PERMISSION_DENIED,
    )
    assert found.reason == "ADMIN_PROTECTED"
    await identity.users.DeleteUser(user_pb2.DeleteUserRequest(user_id=second_admin.id), metadata=admin)
