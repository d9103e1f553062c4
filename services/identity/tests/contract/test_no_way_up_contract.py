"""No way up to admin, over gRPC and PostgreSQL: delegated roles, admin protection, names, login throttling."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import field_mask_pb2
from sqlalchemy import select

from zquant.identity.v1 import auth_pb2, auth_pb2_grpc, role_pb2, user_pb2
from zquant_identity.adapters.sqlalchemy import tables
from zquant_identity.adapters.sqlalchemy.repositories import SqlAlchemyUserRepository
from zquant_kit.testing import ADMIN_PASSWORD

pytestmark = pytest.mark.contract
C = grpc.StatusCode


@pytest.fixture
async def from_elsewhere(identity):
    """The server's address reached from another client address: a loopback relay whose outbound side is 127.0.0.2.

    (Connecting to 127.0.0.2 directly would still leave from 127.0.0.1; the relay binds its source address.)
    """
    host, _, port = identity.address.rpartition(":")

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def relay(client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection(
            host, int(port), local_addr=("127.0.0.2", 0)
        )
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    relay_server = await asyncio.start_server(relay, "127.0.0.1", 0)
    relay_port = relay_server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{relay_port}"
    finally:
        relay_server.close()


async def make_role(identity, admin, name: str, permissions: list[str]) -> None:
    await identity.roles.CreateRole(
        role_pb2.CreateRoleRequest(name=name, permissions=permissions), metadata=admin
    )


def rename(user_id: str, **fields) -> user_pb2.UpdateUserRequest:
    return user_pb2.UpdateUserRequest(
        user_id=user_id,
        user=user_pb2.User(**fields),
        update_mask=field_mask_pb2.FieldMask(paths=list(fields)),
    )


async def test_a_role_writer_cannot_hand_out_permissions_it_lacks_nor_make_itself_admin(
    identity, admin, make_user, expect_error
):
    await make_role(identity, admin, "ops", ["role:read", "role:write", "user:read"])
    olga, ops = await make_user("olga", "ops")
    rita, _ = await make_user("rita", "viewer")

    found = await expect_error(
        identity.roles.CreateRole(
            role_pb2.CreateRoleRequest(name="esc", permissions=["user:delete"]), metadata=ops
        ),
        C.PERMISSION_DENIED,
    )
    assert (found.reason, "user:delete" in found.message) == ("PERMISSION_NOT_HELD", True)
    found = await expect_error(
        identity.roles.AddRolePermissions(
            role_pb2.AddRolePermissionsRequest(name="ops", permissions=["user:update"]), metadata=ops
        ),
        C.PERMISSION_DENIED,
    )
    assert found.reason == "PERMISSION_NOT_HELD"
    for user_id, role in ((olga.id, "admin"), (rita.id, "admin"), (rita.id, "researcher")):
        found = await expect_error(
            identity.roles.AssignUserRole(
                role_pb2.AssignUserRoleRequest(user_id=user_id, role=role), metadata=ops
            ),
            C.PERMISSION_DENIED,
        )
        assert found.reason == "PERMISSION_NOT_HELD"
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=ops)).user
    assert (me.role, sorted(me.permissions)) == ("ops", ["role:read", "role:write", "user:read"])

    # Within what it holds, delegation works.
    await identity.roles.CreateRole(
        role_pb2.CreateRoleRequest(name="reader", permissions=["user:read"]), metadata=ops
    )
    await identity.roles.AssignUserRole(
        role_pb2.AssignUserRoleRequest(user_id=rita.id, role="reader"), metadata=ops
    )


async def test_a_user_updater_cannot_touch_an_admin_nor_take_its_name(
    identity, admin, make_user, expect_error
):
    await make_role(identity, admin, "helpdesk", ["user:read", "user:update", "user:create"])
    helen, helpdesk = await make_user("helen", "helpdesk")
    root = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user

    for call in (
        identity.users.UpdateUser(rename(root.id, username="root"), metadata=helpdesk),
        identity.users.UpdateUser(rename(root.id, email="mine@example.com"), metadata=helpdesk),
        identity.users.DeactivateUser(user_pb2.DeactivateUserRequest(user_id=root.id), metadata=helpdesk),
        identity.users.ResetUserPassword(
            user_pb2.ResetUserPasswordRequest(user_id=root.id, new_password="Taken-over-1"), metadata=helpdesk
        ),
    ):
        found = await expect_error(call, C.PERMISSION_DENIED)
        assert found.reason == "ADMIN_PROTECTED"
    found = await expect_error(
        identity.users.CreateUser(
            user_pb2.CreateUserRequest(
                username="adm2", email="a2@example.com", password="Secret-pass-1", role="admin"
            ),
            metadata=helpdesk,
        ),
        C.PERMISSION_DENIED,
    )
    assert found.reason == "PERMISSION_NOT_HELD"

    for taken in ("ADMIN", "Admin"):
        found = await expect_error(
            identity.users.UpdateUser(rename(helen.id, username=taken), metadata=helpdesk), C.ALREADY_EXISTS
        )
        assert (found.resource_type, found.resource_name) == ("user", taken)
    found = await expect_error(
        identity.users.UpdateUser(rename(helen.id, email="ADMIN@zquant.local"), metadata=helpdesk),
        C.ALREADY_EXISTS,
    )
    assert "email" in found.message
    assert (
        await identity.login("ADMIN", ADMIN_PASSWORD)
    ).access_token  # the admin is still the admin, any case
    assert (await identity.login("admin", ADMIN_PASSWORD)).access_token


async def test_the_last_active_admin_cannot_demote_itself(identity, admin, expect_error):
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    found = await expect_error(
        identity.roles.AssignUserRole(
            role_pb2.AssignUserRoleRequest(user_id=me.id, role="viewer"), metadata=admin
        ),
        C.FAILED_PRECONDITION,
    )
    assert found.reason == "LAST_ADMIN"


TAKE_AWAY = {
    "deactivate": lambda identity, user_id, metadata: identity.users.DeactivateUser(
        user_pb2.DeactivateUserRequest(user_id=user_id), metadata=metadata
    ),
    "delete": lambda identity, user_id, metadata: identity.users.DeleteUser(
        user_pb2.DeleteUserRequest(user_id=user_id), metadata=metadata
    ),
    "demote": lambda identity, user_id, metadata: identity.roles.AssignUserRole(
        role_pb2.AssignUserRoleRequest(user_id=user_id, role="viewer"), metadata=metadata
    ),
}


@pytest.mark.parametrize("action", sorted(TAKE_AWAY))
async def test_two_admins_taking_each_other_away_at_once_leave_one_active_admin(
    identity, admin, make_user, action
):
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    adam, as_adam = await make_user("adam", "admin")
    take_away = TAKE_AWAY[action]
    outcomes = await asyncio.gather(
        take_away(identity, adam.id, admin), take_away(identity, me.id, as_adam), return_exceptions=True
    )

    failures = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(failures) == 1, outcomes
    # Refused as the last admin, or (once the winner's change revoked the loser's token) unauthenticated.
    assert failures[0].code() in (C.FAILED_PRECONDITION, C.UNAUTHENTICATED), failures[0].details()
    listed = await identity.users.ListUsers(
        user_pb2.ListUsersRequest(role="admin", active=True), metadata=await _any_admin(identity, adam)
    )
    assert len(listed.users) == 1


async def _any_admin(identity, adam):
    """Bearer metadata of whichever admin survived."""
    for username, password in (("admin", ADMIN_PASSWORD), ("adam", "Secret-pass-1")):
        try:
            metadata = [
                ("authorization", f"Bearer {(await identity.login(username, password)).access_token}")
            ]
        except grpc.aio.AioRpcError:
            continue  # deactivated or deleted
        me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=metadata)).user
        if me.role == "admin" and me.active:  # a demoted admin still logs in
            return metadata
    raise AssertionError("no admin can log in")


async def test_a_duplicate_name_race_ends_in_already_exists(identity, admin):
    names = ["Zed", "zed", "ZED", "zEd", "zeD"]
    outcomes = await asyncio.gather(
        *(
            identity.users.CreateUser(
                user_pb2.CreateUserRequest(
                    username=name, email=f"z{index}@example.com", password="Secret-pass-1"
                ),
                metadata=admin,
            )
            for index, name in enumerate(names)
        ),
        return_exceptions=True,
    )
    codes = sorted(o.code().name if isinstance(o, grpc.aio.AioRpcError) else "OK" for o in outcomes)
    assert codes == ["ALREADY_EXISTS"] * 4 + ["OK"], [getattr(o, "details", lambda: o)() for o in outcomes]

    emails = ["Q@example.com", "q@example.com", "q@EXAMPLE.com"]
    outcomes = await asyncio.gather(
        *(
            identity.users.CreateUser(
                user_pb2.CreateUserRequest(username=f"quinn{index}", email=email, password="Secret-pass-1"),
                metadata=admin,
            )
            for index, email in enumerate(emails)
        ),
        return_exceptions=True,
    )
    failures = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert [(f.code(), "(email)" in (f.details() or "")) for f in failures] == [(C.ALREADY_EXISTS, True)] * 2


async def test_a_name_taken_after_the_check_is_already_exists_from_the_unique_index(
    identity, admin, make_user, expect_error, monkeypatch
):
    """The race made deterministic: the checks see nothing, so the unique index on lower(...) must answer."""
    rita, _ = await make_user("rita")

    async def nobody(self, name):
        return None

    monkeypatch.setattr(SqlAlchemyUserRepository, "by_username", nobody)
    monkeypatch.setattr(SqlAlchemyUserRepository, "by_email", nobody)
    found = await expect_error(
        identity.users.CreateUser(
            user_pb2.CreateUserRequest(username="ADMIN", email="new@example.com", password="Secret-pass-1"),
            metadata=admin,
        ),
        C.ALREADY_EXISTS,
    )
    assert (found.resource_type, found.resource_name, found.message.endswith("(username)")) == (
        "user",
        "ADMIN",
        True,
    )
    found = await expect_error(
        identity.users.UpdateUser(rename(rita.id, email="Admin@zquant.local"), metadata=admin),
        C.ALREADY_EXISTS,
    )
    assert (found.resource_name, found.message.endswith("(email)")) == ("admin@zquant.local", True)


async def test_wrong_guesses_from_one_address_leave_the_admin_free_from_another(
    identity, from_elsewhere, expect_error
):
    here = identity.auth
    async with grpc.aio.insecure_channel(from_elsewhere) as elsewhere_channel:
        elsewhere = auth_pb2_grpc.AuthServiceStub(elsewhere_channel)
        for _ in range(5):
            found = await expect_error(
                here.Login(auth_pb2.LoginRequest(username="admin", password="Wrong-pass-1")),
                C.UNAUTHENTICATED,
            )
            assert found.reason == "BAD_CREDENTIALS"
        found = await expect_error(
            here.Login(auth_pb2.LoginRequest(username="admin", password=ADMIN_PASSWORD)), C.UNAUTHENTICATED
        )
        assert found.reason == "LOGIN_RATE_LIMITED"

        tokens = (
            await elsewhere.Login(auth_pb2.LoginRequest(username="admin", password=ADMIN_PASSWORD))
        ).tokens
        assert tokens.access_token
        async with identity.app.sessions() as session:
            rows = (await session.execute(select(tables.login_throttles.c.address))).scalars().all()
        assert rows == ["127.0.0.1"]  # the other address never had a count


async def test_a_deactivated_account_answers_the_same_for_right_and_wrong_passwords(
    identity, admin, make_user, expect_error
):
    rita, _ = await make_user("rita")
    await identity.users.DeactivateUser(user_pb2.DeactivateUserRequest(user_id=rita.id), metadata=admin)
    answers = [
        await expect_error(
            identity.auth.Login(auth_pb2.LoginRequest(username=name, password=password)), C.UNAUTHENTICATED
        )
        for name, password in (
            ("rita", "Secret-pass-1"),
            ("rita", "Wrong-pass-1"),
            ("nobody", "Secret-pass-1"),
        )
    ]
    assert answers[0] == answers[1] == answers[2]
    assert (answers[0].reason, answers[0].message) == ("BAD_CREDENTIALS", "invalid username or password")
