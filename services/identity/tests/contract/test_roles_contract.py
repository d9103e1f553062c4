"""RoleService contract: roles, their permissions, the permission catalogue and role assignment."""

from __future__ import annotations

import grpc
import pytest

from zquant.identity.v1 import api_key_pb2, role_pb2, user_pb2
from zquant_identity.domain.rules import PERMISSIONS, SEED_ROLES
from zquant_kit.grpc.client import bearer
from zquant_kit.testing import walk_pages

pytestmark = pytest.mark.contract
C = grpc.StatusCode


async def test_role_rpcs_require_credentials_and_role_permissions(identity, make_user, expect_error):
    roles = identity.roles
    calls = [
        (roles.CreateRole, role_pb2.CreateRoleRequest(name="quant", permissions=["data:read"])),
        (roles.GetRole, role_pb2.GetRoleRequest(name="viewer")),
        (roles.ListRoles, role_pb2.ListRolesRequest()),
        (roles.UpdateRole, role_pb2.UpdateRoleRequest(name="viewer", description="x")),
        (roles.DeleteRole, role_pb2.DeleteRoleRequest(name="viewer")),
        (
            roles.AddRolePermissions,
            role_pb2.AddRolePermissionsRequest(name="viewer", permissions=["data:read"]),
        ),
        (
            roles.RemoveRolePermissions,
            role_pb2.RemoveRolePermissionsRequest(name="viewer", permissions=["data:read"]),
        ),
        (roles.ListPermissions, role_pb2.ListPermissionsRequest()),
        (roles.AssignUserRole, role_pb2.AssignUserRoleRequest(user_id="x", role="viewer")),
    ]
    _, viewer = await make_user("victor", "viewer")
    _, researcher = await make_user("rita", "researcher")
    for rpc, request in calls:
        await expect_error(rpc(request), C.UNAUTHENTICATED)
        await expect_error(rpc(request, metadata=bearer("not.a.jwt")), C.UNAUTHENTICATED)
        for caller in (viewer, researcher):
            found = await expect_error(rpc(request, metadata=caller), C.PERMISSION_DENIED)
            assert "role:" in found.message


async def test_create_role_and_get_it(identity, admin, expect_error):
    request = role_pb2.CreateRoleRequest(
        name="quant-lead",
        description="leads research",
        permissions=["data:read", "backtest:run", "data:read"],
    )
    created = (await identity.roles.CreateRole(request, metadata=admin)).role
    assert (created.name, created.description) == ("quant-lead", "leads research")
    assert list(created.permissions) == ["backtest:run", "data:read"]
    assert created.HasField("create_time")
    assert (
        await identity.roles.GetRole(role_pb2.GetRoleRequest(name="quant-lead"), metadata=admin)
    ).role == created

    builtin = (await identity.roles.GetRole(role_pb2.GetRoleRequest(name="viewer"), metadata=admin)).role
    assert list(builtin.permissions) == sorted(SEED_ROLES["viewer"][1])

    found = await expect_error(
        identity.roles.GetRole(role_pb2.GetRoleRequest(name="ghost"), metadata=admin), C.NOT_FOUND
    )
    assert (found.resource_type, found.resource_name) == ("role", "ghost")
    found = await expect_error(
        identity.roles.GetRole(role_pb2.GetRoleRequest(), metadata=admin), C.INVALID_ARGUMENT
    )
    assert found.fields == ["name"]


async def test_create_role_rejects_bad_names_unknown_permissions_and_duplicates(
    identity, admin, expect_error
):
    for name in ("a", "Quant", "bad name", "9lives"):
        found = await expect_error(
            identity.roles.CreateRole(role_pb2.CreateRoleRequest(name=name), metadata=admin),
            C.INVALID_ARGUMENT,
        )
        assert found.fields == ["name"], name
    found = await expect_error(
        identity.roles.CreateRole(
            role_pb2.CreateRoleRequest(name="quant", permissions=["data:read", "nope:nothing"]),
            metadata=admin,
        ),
        C.INVALID_ARGUMENT,
    )
    assert found.fields == ["permissions[1]"]

    await identity.roles.CreateRole(role_pb2.CreateRoleRequest(name="quant"), metadata=admin)
    for name in ("quant", "admin"):
        found = await expect_error(
            identity.roles.CreateRole(role_pb2.CreateRoleRequest(name=name), metadata=admin), C.ALREADY_EXISTS
        )
        assert (found.resource_type, found.resource_name) == ("role", name)


async def test_list_roles_and_permissions_walk_every_page_once(identity, admin, expect_error):
    for name in ("quant", "auditor"):
        await identity.roles.CreateRole(role_pb2.CreateRoleRequest(name=name), metadata=admin)

    async def walk(rpc, request_type, items: str, page_size: int):
        seen, _ = await walk_pages(
            lambda token: rpc(request_type(page_size=page_size, page_token=token), metadata=admin),
            lambda page: getattr(page, items),
            page_size,
        )
        return seen

    roles = await walk(identity.roles.ListRoles, role_pb2.ListRolesRequest, "roles", 2)
    assert [r.name for r in roles] == ["admin", "auditor", "quant", "researcher", "viewer"]
    permissions = await walk(
        identity.roles.ListPermissions, role_pb2.ListPermissionsRequest, "permissions", 10
    )
    assert {p.name: p.description for p in permissions} == PERMISSIONS
    assert [p.name for p in permissions] == sorted(PERMISSIONS)

    roles_token = (
        await identity.roles.ListRoles(role_pb2.ListRolesRequest(page_size=1), metadata=admin)
    ).next_page_token
    for rpc, request_type, token in (
        (identity.roles.ListRoles, role_pb2.ListRolesRequest, "garbage!"),
        (identity.roles.ListPermissions, role_pb2.ListPermissionsRequest, "garbage!"),
        (identity.roles.ListPermissions, role_pb2.ListPermissionsRequest, roles_token),
    ):
        found = await expect_error(rpc(request_type(page_token=token), metadata=admin), C.INVALID_ARGUMENT)
        assert found.fields == ["page_token"]


async def test_update_role_changes_only_the_description(identity, admin, expect_error):
    await identity.roles.CreateRole(
        role_pb2.CreateRoleRequest(name="quant", permissions=["data:read"]), metadata=admin
    )
    updated = await identity.roles.UpdateRole(
        role_pb2.UpdateRoleRequest(name="quant", description="new text"), metadata=admin
    )
    assert (updated.role.description, list(updated.role.permissions)) == ("new text", ["data:read"])

    found = await expect_error(
        identity.roles.UpdateRole(role_pb2.UpdateRoleRequest(name="ghost", description="x"), metadata=admin),
        C.NOT_FOUND,
    )
    assert (found.resource_type, found.resource_name) == ("role", "ghost")
    found = await expect_error(
        identity.roles.UpdateRole(role_pb2.UpdateRoleRequest(), metadata=admin), C.INVALID_ARGUMENT
    )
    assert found.fields == ["name"]


async def test_delete_role_refuses_built_in_and_assigned_roles(identity, admin, make_user, expect_error):
    def delete(name: str):
        return identity.roles.DeleteRole(role_pb2.DeleteRoleRequest(name=name), metadata=admin)

    for name in ("unused", "in-use"):
        await identity.roles.CreateRole(role_pb2.CreateRoleRequest(name=name), metadata=admin)
    await make_user("rita", "in-use")

    assert await delete("unused") == role_pb2.DeleteRoleResponse()
    await expect_error(
        identity.roles.GetRole(role_pb2.GetRoleRequest(name="unused"), metadata=admin), C.NOT_FOUND
    )

    for name in SEED_ROLES:
        found = await expect_error(delete(name), C.FAILED_PRECONDITION)
        assert found.reason == "BUILTIN_ROLE"
    found = await expect_error(delete("in-use"), C.FAILED_PRECONDITION)
    assert found.reason == "ROLE_IN_USE"
    found = await expect_error(delete("unused"), C.NOT_FOUND)
    assert (found.resource_type, found.resource_name) == ("role", "unused")


async def test_add_and_remove_role_permissions(identity, admin, make_user, expect_error):
    await identity.roles.CreateRole(
        role_pb2.CreateRoleRequest(name="quant", permissions=["data:read"]), metadata=admin
    )
    rita, _ = await make_user("rita", "quant")

    added = await identity.roles.AddRolePermissions(
        role_pb2.AddRolePermissionsRequest(name="quant", permissions=["factor:read", "data:read"]),
        metadata=admin,
    )
    assert list(added.role.permissions) == ["data:read", "factor:read"]
    removed = await identity.roles.RemoveRolePermissions(
        role_pb2.RemoveRolePermissionsRequest(name="quant", permissions=["data:read"]), metadata=admin
    )
    assert list(removed.role.permissions) == ["factor:read"]
    rita_now = (await identity.users.GetUser(user_pb2.GetUserRequest(user_id=rita.id), metadata=admin)).user
    assert list(rita_now.permissions) == ["factor:read"]

    for rpc, request_type in (
        (identity.roles.AddRolePermissions, role_pb2.AddRolePermissionsRequest),
        (identity.roles.RemoveRolePermissions, role_pb2.RemoveRolePermissionsRequest),
    ):
        found = await expect_error(rpc(request_type(name="quant"), metadata=admin), C.INVALID_ARGUMENT)
        assert found.fields == ["permissions"]
        found = await expect_error(
            rpc(request_type(name="quant", permissions=["nope:x"]), metadata=admin), C.INVALID_ARGUMENT
        )
        assert found.fields == ["permissions[0]"]
        found = await expect_error(
            rpc(request_type(name="ghost", permissions=["data:read"]), metadata=admin), C.NOT_FOUND
        )
        assert (found.resource_type, found.resource_name) == ("role", "ghost")

    found = await expect_error(
        identity.roles.RemoveRolePermissions(
            role_pb2.RemoveRolePermissionsRequest(name="admin", permissions=["user:delete"]), metadata=admin
        ),
        C.FAILED_PRECONDITION,
    )
    assert found.reason == "BUILTIN_ROLE"


async def test_assign_user_role_takes_effect_at_next_login(identity, admin, make_user, expect_error):
    rita, old_token = await make_user("rita", "researcher")
    await identity.roles.AssignUserRole(
        role_pb2.AssignUserRoleRequest(user_id=rita.id, role="viewer"), metadata=admin
    )

    shown = (await identity.users.GetUser(user_pb2.GetUserRequest(user_id=rita.id), metadata=admin)).user
    assert (shown.role, list(shown.permissions)) == ("viewer", sorted(SEED_ROLES["viewer"][1]))
    new_token = [("authorization", f"Bearer {(await identity.login('rita', 'Secret-pass-1')).access_token}")]
    found = await expect_error(
        identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="k"), metadata=new_token),
        C.PERMISSION_DENIED,
    )
    assert "apikey:create" in found.message
    # The access token issued before the change no longer works: permissions come from the current role.
    found = await expect_error(
        identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="k"), metadata=old_token),
        C.UNAUTHENTICATED,
    )
    assert found.reason == "TOKEN_REVOKED"


async def test_assign_user_role_errors(identity, admin, make_user, expect_error):
    rita, _ = await make_user("rita")

    def assign(user_id: str, role: str):
        return identity.roles.AssignUserRole(
            role_pb2.AssignUserRoleRequest(user_id=user_id, role=role), metadata=admin
        )

    found = await expect_error(assign(rita.id, "ghost"), C.NOT_FOUND)
    assert (found.resource_type, found.resource_name) == ("role", "ghost")
    found = await expect_error(assign("no-such-id", "viewer"), C.NOT_FOUND)
    assert (found.resource_type, found.resource_name) == ("user", "no-such-id")
    assert (await expect_error(assign("", "viewer"), C.INVALID_ARGUMENT)).fields == ["user_id"]
    assert (await expect_error(assign(rita.id, ""), C.INVALID_ARGUMENT)).fields == ["role"]

    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    found = await expect_error(assign(me.id, "viewer"), C.FAILED_PRECONDITION)
    assert found.reason == "LAST_ADMIN"
    await assign(rita.id, "admin")
    await assign(me.id, "viewer")  # no longer the last admin
