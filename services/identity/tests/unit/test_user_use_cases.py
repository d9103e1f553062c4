"""Identity's user management use cases over in-memory fakes of the ports (see conftest.py): no database, no gRPC."""

from __future__ import annotations

import pytest

from zquant.identity.v1 import events_pb2
from zquant_identity.application.events import USER_CREATED, USER_DELETED
from zquant_identity.application.ports import UserFilter
from zquant_identity.domain.rules import PERMISSIONS, SEED_ROLES
from zquant_kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from zquant_kit.principal import Principal
from zquant_kit.testing import USER_PASSWORD, root_principal

pytestmark = pytest.mark.unit
ROOT = root_principal(PERMISSIONS)


# --- users -----------------------------------------------------------------------------------------------------


async def test_create_user_stores_a_hash_defaults_to_researcher_and_emits_user_created(app):
    view = await app.users.create(ROOT, "alice", "Alice@Example.com", USER_PASSWORD, "")
    alice = app.store.users[view.user.id]
    assert (alice.username, alice.email, alice.role, alice.active) == (
        "alice",
        "alice@example.com",
        "researcher",
        True,
    )
    assert USER_PASSWORD not in alice.password_hash
    assert (
        await app.auth.login("alice", USER_PASSWORD)
    ).access_token  # the stored hash verifies the password
    assert view.permissions == sorted(SEED_ROLES["researcher"][1])

    (event,) = app.uow.events_of(USER_CREATED)
    message = event.decode(events_pb2.UserCreatedEvent)
    assert (message.user_id, message.username, message.role) == (alice.id, "alice", "researcher")


async def test_create_user_with_taken_username_or_email_raises_already_exists(app):
    await app.make_user("alice")
    with pytest.raises(AlreadyExists) as raised:
        await app.users.create(ROOT, "alice", "other@example.com", USER_PASSWORD, "")
    assert (raised.value.resource_name, raised.value.field) == ("alice", "username")
    with pytest.raises(AlreadyExists) as raised:
        await app.users.create(ROOT, "alicia", "ALICE@example.com", USER_PASSWORD, "")
    assert (raised.value.resource_name, raised.value.field) == ("alice@example.com", "email")
    assert [u.username for u in app.store.users.values()] == ["alice"]
    assert len(app.uow.events_of(USER_CREATED)) == 1


@pytest.mark.parametrize(
    ("username", "email", "password", "role", "field"),
    [
        ("a", "a@example.com", USER_PASSWORD, "", "username"),
        ("alice", "nope", USER_PASSWORD, "", "email"),
        ("alice", "a@example.com", "alllowercase", "", "password"),
        ("alice", "a@example.com", USER_PASSWORD, "ghost", "role"),
    ],
)
async def test_create_user_rejects_invalid_input_and_stores_nothing(
    app, username, email, password, role, field
):
    with pytest.raises(InvalidArgument) as raised:
        await app.users.create(ROOT, username, email, password, role)
    assert raised.value.field == field
    assert app.store.users == {} and app.uow.events == []


async def test_reading_another_user_needs_user_read(app):
    alice, bob = await app.make_user("alice"), await app.make_user("bob")
    as_alice = await app.principal(alice)
    assert (await app.users.get(as_alice, alice.id)).user.username == "alice"
    with pytest.raises(PermissionDenied):
        await app.users.get(as_alice, bob.id)
    assert (await app.users.get(ROOT, bob.id)).user.username == "bob"
    with pytest.raises(NotFound):
        await app.users.get(ROOT, "ghost")


async def test_list_users_filters_and_reports_more_pages(app):
    for name, role in (("alice", "researcher"), ("alina", "viewer"), ("bob", "viewer")):
        await app.make_user(name, role)
    views, more = await app.users.list(UserFilter(role="viewer"), None, 1)
    assert [v.user.username for v in views] == ["alina"] and more
    views, more = await app.users.list(UserFilter(role="viewer"), "alina", 1)
    assert [v.user.username for v in views] == ["bob"] and not more


async def test_update_user_keeps_usernames_and_emails_unique(app):
    alice = await app.make_user("alice")
    await app.make_user("bob")
    with pytest.raises(AlreadyExists):
        await app.users.update(ROOT, alice.id, "bob", None)
    with pytest.raises(AlreadyExists):
        await app.users.update(ROOT, alice.id, None, "BOB@example.com")
    with pytest.raises(InvalidArgument) as raised:
        await app.users.update(ROOT, alice.id, "x", None)
    assert raised.value.field == "user.username"

    app.clock.advance(minutes=1)
    view = await app.users.update(ROOT, alice.id, "alice2", "Alice2@example.com")
    stored = app.store.users[alice.id]
    assert (stored.username, stored.email, stored.updated_at) == (
        "alice2",
        "alice2@example.com",
        app.clock.now(),
    )
    assert view.user.username == "alice2"


async def test_deactivating_yourself_is_refused_and_activation_clears_a_lock(app):
    alice = await app.make_user("alice")
    with pytest.raises(FailedPrecondition) as raised:
        await app.users.set_active(await app.principal(alice), alice.id, False)
    assert raised.value.reason == "SELF_DEACTIVATION"

    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await app.auth.login("alice", "Wrong-pass-1", "10.0.0.9")
    assert app.store.login_throttles[("alice", "10.0.0.9")].retry_after(app.clock.now())
    await app.users.set_active(ROOT, alice.id, True)
    assert app.store.login_throttles == {}
    assert (await app.auth.login("alice", USER_PASSWORD, "10.0.0.9")).access_token


async def test_change_own_password_requires_the_old_one_and_ends_every_session(app):
    alice = await app.make_user("alice")
    await app.auth.login("alice", USER_PASSWORD)
    as_alice = await app.principal(alice)
    with pytest.raises(InvalidArgument) as raised:
        await app.users.change_own_password(as_alice, "Wrong-pass-1", "Brand-new-pass-2")
    assert raised.value.field == "old_password"
    with pytest.raises(InvalidArgument) as raised:
        await app.users.change_own_password(as_alice, USER_PASSWORD, USER_PASSWORD)
    assert raised.value.field == "new_password"

    await app.users.change_own_password(as_alice, USER_PASSWORD, "Brand-new-pass-2")
    assert app.store.refresh_tokens == {}
    assert (await app.auth.login("alice", "Brand-new-pass-2")).access_token


async def test_reset_password_ends_sessions_and_clears_the_lock(app):
    alice = await app.make_user("alice")
    await app.auth.login("alice", USER_PASSWORD)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await app.auth.login("alice", "Wrong-pass-1")

    await app.users.reset_password(ROOT, alice.id, "Brand-new-pass-2")
    assert app.store.refresh_tokens == {}
    assert app.store.login_throttles == {}
    assert (await app.auth.login("alice", "Brand-new-pass-2")).access_token


async def test_delete_user_removes_keys_tokens_notifications_and_emits_one_user_deleted(app):
    owners = {}
    for name in ("alice", "bob"):
        user = await app.make_user(name)
        await app.auth.login(name, USER_PASSWORD)
        await app.api_keys.create(await app.principal(user), "ci", None)
        await app.notifications.send(user.id, "hello", "")
        owners[name] = user
    alice, bob = owners["alice"], owners["bob"]

    await app.users.delete(ROOT, alice.id)

    store = app.store
    assert alice.id not in store.users
    for rows in (store.api_keys, store.refresh_tokens, store.notifications):
        assert {row.user_id for row in rows.values()} == {bob.id}
    (event,) = app.uow.events_of(USER_DELETED)
    assert event.decode(events_pb2.UserDeletedEvent).user_id == alice.id


async def test_delete_refuses_self_and_the_last_admin_without_side_effects(app):
    root = await app.make_user("root", "admin")
    with pytest.raises(FailedPrecondition) as raised:
        await app.users.delete(await app.principal(root), root.id)
    assert raised.value.reason == "SELF_DELETION"
    user_admin = Principal("ops-id", "ops", "ops", frozenset({"user:delete"}))
    with pytest.raises(PermissionDenied) as raised:
        await app.users.delete(user_admin, root.id)
    assert raised.value.reason == "ADMIN_PROTECTED"
    with pytest.raises(FailedPrecondition) as raised:
        await app.users.delete(ROOT, root.id)
    assert raised.value.reason == "LAST_ADMIN"
    assert root.id in app.store.users and app.uow.events_of(USER_DELETED) == []

    second = await app.make_user("root2", "admin")
    await app.users.delete(ROOT, second.id)
    assert len(app.uow.events_of(USER_DELETED)) == 1


PROFILE_CHANGES = [
    pytest.param(
        lambda app, alice, as_alice: app.users.update(ROOT, alice.id, "alice2", "a2@example.com"), id="update"
    ),
    pytest.param(lambda app, alice, as_alice: app.users.set_active(ROOT, alice.id, False), id="deactivate"),
    pytest.param(
        lambda app, alice, as_alice: app.users.reset_password(ROOT, alice.id, "Brand-new-pass-2"),
        id="reset_password",
    ),
    pytest.param(
        lambda app, alice, as_alice: app.users.change_own_password(
            as_alice, USER_PASSWORD, "Brand-new-pass-2"
        ),
        id="change_own_password",
    ),
    pytest.param(lambda app, alice, as_alice: app.roles.assign(ROOT, alice.id, "viewer"), id="assign_role"),
    pytest.param(
        lambda app, alice, as_alice: app.roles.change_permissions(
            ROOT, "researcher", ["audit:read"], grant=True
        ),
        id="grant_role_permission",
    ),
]


@pytest.mark.parametrize("change", PROFILE_CHANGES)
async def test_a_local_change_is_visible_to_the_next_profile_read_despite_the_cache(app, change):
    alice = await app.make_user("alice")
    as_alice = await app.principal(alice)
    await app.users.get(as_alice, alice.id)  # now cached

    app.clock.advance(seconds=1)  # well inside the cache TTL
    await change(app, alice, as_alice)

    stored = app.store.users[alice.id]
    seen = await app.users.get(ROOT, alice.id)
    assert (seen.user.username, seen.user.email, seen.user.role, seen.user.active, seen.user.updated_at) == (
        stored.username,
        stored.email,
        stored.role,
        stored.active,
        stored.updated_at,
    )
    assert seen.permissions == app.store.roles[stored.role].permissions
