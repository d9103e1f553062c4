"""No way up to admin, over the fakes: nobody grants what they lack, admins are protected, names ignore case."""

from __future__ import annotations

import pytest

from zquant_identity.domain.rules import PERMISSIONS, SEED_ROLES
from zquant_kit.errors import AlreadyExists, FailedPrecondition, PermissionDenied
from zquant_kit.principal import Principal
from zquant_kit.testing import USER_PASSWORD, root_principal

pytestmark = pytest.mark.unit
ROLE_ADMIN = Principal("ra-id", "ops", "ops", frozenset({"role:write", "role:read", "data:read"}))
USER_ADMIN = Principal(
    "ua-id", "helpdesk", "helpdesk", frozenset({"user:create", "user:update", "user:delete"})
)


ROOT = root_principal(PERMISSIONS)


def assert_not_held(raised, *missing: str) -> None:
    assert raised.value.reason == "PERMISSION_NOT_HELD"
    assert raised.value.permission == sorted(missing)[0]
    assert all(permission in str(raised.value) for permission in missing)


# --- nobody grants what they do not hold ----------------------------------------------------------------------


async def test_a_role_writer_cannot_create_a_role_with_permissions_it_lacks(app):
    with pytest.raises(PermissionDenied) as raised:
        await app.roles.create(ROLE_ADMIN, "escalate", "", ["data:read", "user:delete", "audit:read"])
    assert_not_held(raised, "audit:read", "user:delete")
    assert "escalate" not in app.store.roles
    assert (await app.roles.create(ROLE_ADMIN, "reader", "", ["data:read", "role:read"])).permissions == [
        "data:read",
        "role:read",
    ]


async def test_a_role_writer_cannot_grant_what_it_lacks_nor_change_a_role_carrying_it(app):
    await app.roles.create(ROLE_ADMIN, "reader", "", ["data:read"])
    with pytest.raises(PermissionDenied) as raised:
        await app.roles.change_permissions(ROLE_ADMIN, "reader", ["user:update"], grant=True)
    assert_not_held(raised, "user:update")
    with pytest.raises(PermissionDenied):  # viewer carries factor:read etc., which ops lacks
        await app.roles.change_permissions(ROLE_ADMIN, "viewer", ["data:read"], grant=False)
    for change in (
        lambda: app.roles.change_permissions(ROLE_ADMIN, "researcher", ["data:read"], grant=True),
        lambda: app.roles.change_permissions(ROLE_ADMIN, "researcher", ["factor:read"], grant=False),
        lambda: app.roles.update(ROLE_ADMIN, "researcher", "now mine"),
        lambda: app.roles.delete(ROLE_ADMIN, "researcher"),
        lambda: app.roles.change_permissions(ROLE_ADMIN, "admin", ["data:read"], grant=True),
    ):
        with pytest.raises(PermissionDenied) as raised:
            await change()
        assert raised.value.reason == "PERMISSION_NOT_HELD"
    assert app.store.roles["researcher"].permissions == sorted(SEED_ROLES["researcher"][1])
    assert app.store.roles["reader"].permissions == ["data:read"]

    await app.roles.change_permissions(ROLE_ADMIN, "reader", ["role:read"], grant=True)
    await app.roles.change_permissions(ROLE_ADMIN, "reader", ["data:read"], grant=False)
    await app.roles.update(ROLE_ADMIN, "reader", "reads roles")
    assert (app.store.roles["reader"].permissions, app.store.roles["reader"].description) == (
        ["role:read"],
        "reads roles",
    )


async def test_a_role_writer_cannot_make_itself_or_anyone_admin(app):
    ops = await app.make_user("ops")
    with pytest.raises(PermissionDenied) as raised:
        await app.roles.assign(ROLE_ADMIN, ops.id, "admin")
    assert_not_held(raised, *(p for p in PERMISSIONS if p not in ROLE_ADMIN.permissions))
    with pytest.raises(PermissionDenied):
        await app.roles.assign(ROLE_ADMIN, ops.id, "researcher")  # carries factor:write etc., which ops lacks
    assert app.store.users[ops.id].role == "researcher"

    await app.roles.create(ROLE_ADMIN, "reader", "", ["data:read"])
    await app.roles.assign(ROLE_ADMIN, ops.id, "reader")
    assert app.store.users[ops.id].role == "reader"


async def test_a_user_creator_cannot_create_a_user_with_a_role_it_lacks(app):
    with pytest.raises(PermissionDenied) as raised:
        await app.users.create(USER_ADMIN, "mallory", "m@example.com", USER_PASSWORD, "admin")
    assert raised.value.reason == "PERMISSION_NOT_HELD"
    with pytest.raises(PermissionDenied):
        await app.users.create(
            USER_ADMIN, "mallory", "m@example.com", USER_PASSWORD, ""
        )  # the default researcher
    assert app.store.users == {}


async def test_the_first_admin_is_created_without_a_caller(app):
    view = await app.users.create_first_admin("admin", "admin@example.com", USER_PASSWORD)
    assert (view.user.role, view.permissions) == ("admin", sorted(PERMISSIONS))


# --- admins are protected -------------------------------------------------------------------------------------


ADMIN_CHANGES = [
    pytest.param(lambda app, target: app.users.update(USER_ADMIN, target.id, "root-old", None), id="rename"),
    pytest.param(
        lambda app, target: app.users.update(USER_ADMIN, target.id, None, "m@example.com"), id="re-email"
    ),
    pytest.param(lambda app, target: app.users.set_active(USER_ADMIN, target.id, False), id="deactivate"),
    pytest.param(lambda app, target: app.users.set_active(USER_ADMIN, target.id, True), id="activate"),
    pytest.param(
        lambda app, target: app.users.reset_password(USER_ADMIN, target.id, "Brand-new-pass-2"), id="reset"
    ),
    pytest.param(lambda app, target: app.users.delete(USER_ADMIN, target.id), id="delete"),
    pytest.param(lambda app, target: app.roles.assign(ROLE_ADMIN, target.id, "viewer"), id="demote"),
]


@pytest.mark.parametrize("change", ADMIN_CHANGES)
async def test_only_an_admin_may_change_an_admin(app, change):
    root, _ = await app.make_user("root", "admin"), await app.make_user("root2", "admin")
    before = (root.username, root.email, root.active, root.password_hash, root.role)
    with pytest.raises(PermissionDenied) as raised:
        await change(app, root)
    assert raised.value.reason == "ADMIN_PROTECTED"
    assert "only an admin may" in str(raised.value)
    stored = app.store.users[root.id]
    assert (stored.username, stored.email, stored.active, stored.password_hash, stored.role) == before


async def test_the_last_active_admin_cannot_be_deactivated_deleted_or_demoted(app):
    root, spare = await app.make_user("root", "admin"), await app.make_user("spare", "admin")
    await app.users.set_active(ROOT, spare.id, False)  # an inactive admin does not count
    for change in (
        lambda: app.users.set_active(ROOT, root.id, False),
        lambda: app.users.delete(ROOT, root.id),
        lambda: app.roles.assign(ROOT, root.id, "viewer"),
    ):
        with pytest.raises(FailedPrecondition) as raised:
            await change()
        assert raised.value.reason == "LAST_ADMIN"
    stored = app.store.users[root.id]
    assert (stored.role, stored.active) == ("admin", True)

    await app.roles.assign(ROOT, spare.id, "viewer")  # demoting an inactive admin leaves root
    await app.users.set_active(ROOT, spare.id, True)
    await app.roles.assign(ROOT, spare.id, "admin")
    await app.users.set_active(ROOT, root.id, False)  # no longer the last
    assert app.store.users[root.id].active is False


# --- unique ignoring case -------------------------------------------------------------------------------------


async def test_usernames_and_emails_are_unique_ignoring_case(app):
    await app.make_user("admin", "admin")
    mallory = await app.make_user("mallory")
    for username in ("Admin", "ADMIN"):
        with pytest.raises(AlreadyExists) as raised:
            await app.users.create(ROOT, username, "x@example.com", USER_PASSWORD, "")
        assert (raised.value.resource_name, raised.value.field) == (username, "username")
        with pytest.raises(AlreadyExists):
            await app.users.update(USER_ADMIN, mallory.id, username, None)
    with pytest.raises(AlreadyExists) as raised:
        await app.users.update(USER_ADMIN, mallory.id, None, "ADMIN@example.com")
    assert raised.value.field == "email"
    assert app.store.users[mallory.id].username == "mallory"

    view = await app.users.update(
        USER_ADMIN, mallory.id, "Mallory", "MALLORY@example.com"
    )  # own name, new case
    assert (view.user.username, view.user.email) == ("Mallory", "mallory@example.com")


async def test_a_name_taken_between_check_and_write_is_already_exists(app, monkeypatch):
    await app.make_user("alice")
    bob = await app.make_user("bob")

    async def nobody(self, name):
        return None  # as if the other transaction had not committed yet when we checked

    async with app.uow() as uow:
        fake_users = type(uow.users)
    monkeypatch.setattr(fake_users, "by_username", nobody)
    monkeypatch.setattr(fake_users, "by_email", nobody)
    with pytest.raises(AlreadyExists) as raised:
        await app.users.create(ROOT, "ALICE", "new@example.com", USER_PASSWORD, "")
    assert (raised.value.resource_name, raised.value.field) == ("ALICE", "username")
    with pytest.raises(AlreadyExists) as raised:
        await app.users.update(ROOT, bob.id, None, "alice@example.com")
    assert raised.value.field == "email"
    assert sorted(u.username for u in app.store.users.values()) == ["alice", "bob"]
