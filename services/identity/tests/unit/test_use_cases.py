"""Application use cases over in-memory fakes of the ports (see conftest.py): no database, no gRPC."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from zquant.identity.v1 import events_pb2
from zquant_identity.application.events import USER_CREATED, USER_DELETED
from zquant_identity.application.ports import AuditFilter, UserFilter
from zquant_identity.domain.rules import PERMISSIONS, SEED_ROLES
from zquant_kit.audit import AuditRecord, to_event
from zquant_kit.auth import ApiKeyCredentials, hmac_key, request_digest, signature
from zquant_kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal
from zquant_kit.testing import root_principal

pytestmark = pytest.mark.unit
PASSWORD = "Secret-pass-1"
GET_ME = "/zquant.identity.v1.UserService/GetMe"


async def make_user(app, username: str, role: str = "researcher", password: str = PASSWORD):
    return (await app.users.create(admin_principal(), username, f"{username}@example.com", password, role)).user


def admin_principal() -> Principal:
    return root_principal(PERMISSIONS)


def credentials(app, key_id: str, secret: str, nonce: str = "n-1", age_seconds: int = 0) -> ApiKeyCredentials:
    timestamp = int(app.clock.now().timestamp()) - age_seconds
    body = request_digest(b"")
    return ApiKeyCredentials(
        key_id, timestamp, nonce, GET_ME, body, signature(hmac_key(secret), timestamp, nonce, GET_ME, body)
    )


# --- users -----------------------------------------------------------------------------------------------------


async def test_create_user_stores_a_hash_defaults_to_researcher_and_emits_user_created(app):
    view = await app.users.create(admin_principal(), "alice", "Alice@Example.com", PASSWORD, "")
    alice = app.store.users[view.user.id]
    assert (alice.username, alice.email, alice.role, alice.active) == ("alice", "alice@example.com", "researcher", True)
    assert PASSWORD not in alice.password_hash
    assert (await app.auth.login("alice", PASSWORD)).access_token  # the stored hash verifies the password
    assert view.permissions == sorted(SEED_ROLES["researcher"][1])

    (event,) = app.uow.events_of(USER_CREATED)
    message = event.decode(events_pb2.UserCreatedEvent)
    assert (message.user_id, message.username, message.role) == (alice.id, "alice", "researcher")


async def test_create_user_with_taken_username_or_email_raises_already_exists(app):
    await make_user(app, "alice")
    with pytest.raises(AlreadyExists) as raised:
        await app.users.create(admin_principal(), "alice", "other@example.com", PASSWORD, "")
    assert (raised.value.resource_name, raised.value.field) == ("alice", "username")
    with pytest.raises(AlreadyExists) as raised:
        await app.users.create(admin_principal(), "alicia", "ALICE@example.com", PASSWORD, "")
    assert (raised.value.resource_name, raised.value.field) == ("alice@example.com", "email")
    assert [u.username for u in app.store.users.values()] == ["alice"]
    assert len(app.uow.events_of(USER_CREATED)) == 1


@pytest.mark.parametrize(
    ("username", "email", "password", "role", "field"),
    [
        ("a", "a@example.com", PASSWORD, "", "username"),
        ("alice", "nope", PASSWORD, "", "email"),
        ("alice", "a@example.com", "alllowercase", "", "password"),
        ("alice", "a@example.com", PASSWORD, "ghost", "role"),
    ],
)
async def test_create_user_rejects_invalid_input_and_stores_nothing(app, username, email, password, role, field):
    with pytest.raises(InvalidArgument) as raised:
        await app.users.create(admin_principal(), username, email, password, role)
    assert raised.value.field == field
    assert app.store.users == {} and app.uow.events == []


async def test_reading_another_user_needs_user_read(app):
    alice, bob = await make_user(app, "alice"), await make_user(app, "bob")
    as_alice = await app.principal(alice)
    assert (await app.users.get(as_alice, alice.id)).user.username == "alice"
    with pytest.raises(PermissionDenied):
        await app.users.get(as_alice, bob.id)
    assert (await app.users.get(admin_principal(), bob.id)).user.username == "bob"
    with pytest.raises(NotFound):
        await app.users.get(admin_principal(), "ghost")


async def test_list_users_filters_and_reports_more_pages(app):
    for name, role in (("alice", "researcher"), ("alina", "viewer"), ("bob", "viewer")):
        await make_user(app, name, role)
    views, more = await app.users.list(UserFilter(role="viewer"), None, 1)
    assert [v.user.username for v in views] == ["alina"] and more
    views, more = await app.users.list(UserFilter(role="viewer"), "alina", 1)
    assert [v.user.username for v in views] == ["bob"] and not more


async def test_update_user_keeps_usernames_and_emails_unique(app):
    alice = await make_user(app, "alice")
    await make_user(app, "bob")
    with pytest.raises(AlreadyExists):
        await app.users.update(admin_principal(), alice.id, "bob", None)
    with pytest.raises(AlreadyExists):
        await app.users.update(admin_principal(), alice.id, None, "BOB@example.com")
    with pytest.raises(InvalidArgument) as raised:
        await app.users.update(admin_principal(), alice.id, "x", None)
    assert raised.value.field == "user.username"

    app.clock.advance(minutes=1)
    view = await app.users.update(admin_principal(), alice.id, "alice2", "Alice2@example.com")
    stored = app.store.users[alice.id]
    assert (stored.username, stored.email, stored.updated_at) == ("alice2", "alice2@example.com", app.clock.now())
    assert view.user.username == "alice2"


async def test_deactivating_yourself_is_refused_and_activation_clears_a_lock(app):
    alice = await make_user(app, "alice")
    with pytest.raises(FailedPrecondition) as raised:
        await app.users.set_active(await app.principal(alice), alice.id, False)
    assert raised.value.reason == "SELF_DEACTIVATION"

    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await app.auth.login("alice", "Wrong-pass-1", "10.0.0.9")
    assert app.store.login_throttles[("alice", "10.0.0.9")].retry_after(app.clock.now())
    await app.users.set_active(admin_principal(), alice.id, True)
    assert app.store.login_throttles == {}
    assert (await app.auth.login("alice", PASSWORD, "10.0.0.9")).access_token


async def test_change_own_password_requires_the_old_one_and_ends_every_session(app):
    alice = await make_user(app, "alice")
    await app.auth.login("alice", PASSWORD)
    as_alice = await app.principal(alice)
    with pytest.raises(InvalidArgument) as raised:
        await app.users.change_own_password(as_alice, "Wrong-pass-1", "Brand-new-pass-2")
    assert raised.value.field == "old_password"
    with pytest.raises(InvalidArgument) as raised:
        await app.users.change_own_password(as_alice, PASSWORD, PASSWORD)
    assert raised.value.field == "new_password"

    await app.users.change_own_password(as_alice, PASSWORD, "Brand-new-pass-2")
    assert app.store.refresh_tokens == {}
    assert (await app.auth.login("alice", "Brand-new-pass-2")).access_token


async def test_reset_password_ends_sessions_and_clears_the_lock(app):
    alice = await make_user(app, "alice")
    await app.auth.login("alice", PASSWORD)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await app.auth.login("alice", "Wrong-pass-1")

    await app.users.reset_password(admin_principal(), alice.id, "Brand-new-pass-2")
    assert app.store.refresh_tokens == {}
    assert app.store.login_throttles == {}
    assert (await app.auth.login("alice", "Brand-new-pass-2")).access_token


async def test_delete_user_removes_keys_tokens_notifications_and_emits_one_user_deleted(app):
    owners = {}
    for name in ("alice", "bob"):
        user = await make_user(app, name)
        await app.auth.login(name, PASSWORD)
        await app.api_keys.create(await app.principal(user), "ci", None)
        await app.notifications.send(user.id, "hello", "")
        owners[name] = user
    alice, bob = owners["alice"], owners["bob"]

    await app.users.delete(admin_principal(), alice.id)

    store = app.store
    assert alice.id not in store.users
    for rows in (store.api_keys, store.refresh_tokens, store.notifications):
        assert {row.user_id for row in rows.values()} == {bob.id}
    (event,) = app.uow.events_of(USER_DELETED)
    assert event.decode(events_pb2.UserDeletedEvent).user_id == alice.id


async def test_delete_refuses_self_and_the_last_admin_without_side_effects(app):
    root = await make_user(app, "root", "admin")
    with pytest.raises(FailedPrecondition) as raised:
        await app.users.delete(await app.principal(root), root.id)
    assert raised.value.reason == "SELF_DELETION"
    user_admin = Principal("ops-id", "ops", "ops", frozenset({"user:delete"}))
    with pytest.raises(PermissionDenied) as raised:
        await app.users.delete(user_admin, root.id)
    assert raised.value.reason == "ADMIN_PROTECTED"
    with pytest.raises(FailedPrecondition) as raised:
        await app.users.delete(admin_principal(), root.id)
    assert raised.value.reason == "LAST_ADMIN"
    assert root.id in app.store.users and app.uow.events_of(USER_DELETED) == []

    second = await make_user(app, "root2", "admin")
    await app.users.delete(admin_principal(), second.id)
    assert len(app.uow.events_of(USER_DELETED)) == 1


PROFILE_CHANGES = [
    pytest.param(lambda app, alice, as_alice: app.users.update(admin_principal(), alice.id, "alice2", "a2@example.com"), id="update"),
    pytest.param(
        lambda app, alice, as_alice: app.users.set_active(admin_principal(), alice.id, False), id="deactivate"
    ),
    pytest.param(
        lambda app, alice, as_alice: app.users.reset_password(admin_principal(), alice.id, "Brand-new-pass-2"), id="reset_password"
    ),
    pytest.param(
        lambda app, alice, as_alice: app.users.change_own_password(as_alice, PASSWORD, "Brand-new-pass-2"),
        id="change_own_password",
    ),
    pytest.param(lambda app, alice, as_alice: app.roles.assign(admin_principal(), alice.id, "viewer"), id="assign_role"),
    pytest.param(
        lambda app, alice, as_alice: app.roles.change_permissions(admin_principal(), "researcher", ["audit:read"], grant=True),
        id="grant_role_permission",
    ),
]


@pytest.mark.parametrize("change", PROFILE_CHANGES)
async def test_a_local_change_is_visible_to_the_next_profile_read_despite_the_cache(app, change):
    alice = await make_user(app, "alice")
    as_alice = await app.principal(alice)
    await app.users.get(as_alice, alice.id)  # now cached

    app.clock.advance(seconds=1)  # well inside the cache TTL
    await change(app, alice, as_alice)

    stored = app.store.users[alice.id]
    seen = await app.users.get(admin_principal(), alice.id)
    assert (seen.user.username, seen.user.email, seen.user.role, seen.user.active, seen.user.updated_at) == (
        stored.username,
        stored.email,
        stored.role,
        stored.active,
        stored.updated_at,
    )
    assert seen.permissions == app.store.roles[stored.role].permissions


# --- auth ------------------------------------------------------------------------------------------------------


async def test_login_issues_a_pair_and_stores_only_the_refresh_token_hash(app):
    await make_user(app, "alice")
    pair = await app.auth.login("alice", PASSWORD)
    (stored,) = app.store.refresh_tokens.values()
    assert stored.token_hash == hashlib.sha256(pair.refresh_token.encode()).hexdigest() != pair.refresh_token
    assert pair.access_expires_at == app.clock.now() + dt.timedelta(minutes=15)
    assert pair.refresh_expires_at == stored.expires_at == app.clock.now() + dt.timedelta(days=7)


async def test_unknown_user_and_wrong_password_fail_the_same_way(app):
    await make_user(app, "alice")
    with pytest.raises(Unauthenticated) as wrong_password:
        await app.auth.login("alice", "Wrong-pass-1")
    with pytest.raises(Unauthenticated) as unknown_user:
        await app.auth.login("nobody", "Wrong-pass-1")
    assert (wrong_password.value.reason, str(wrong_password.value)) == (
        unknown_user.value.reason,
        str(unknown_user.value),
    )


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(app):
    await make_user(app, "alice")
    other_session = await app.auth.login("alice", PASSWORD)
    first = await app.auth.login("alice", PASSWORD)
    second = await app.auth.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token

    with pytest.raises(Unauthenticated) as raised:
        await app.auth.refresh(first.refresh_token)
    assert raised.value.reason == "REFRESH_TOKEN_REUSED"
    with pytest.raises(Unauthenticated):
        await app.auth.refresh(second.refresh_token)
    family = {t.family_id for t in app.store.refresh_tokens.values() if t.used_at is not None}
    assert all(t.revoked_at is not None for t in app.store.refresh_tokens.values() if t.family_id in family)
    assert (await app.auth.refresh(other_session.refresh_token)).access_token


async def test_expired_refresh_token_and_logout(app):
    await make_user(app, "alice")
    stale, current = await app.auth.login("alice", PASSWORD), await app.auth.login("alice", PASSWORD)
    app.clock.advance(days=7)
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.refresh(stale.refresh_token)
    assert raised.value.reason == "REFRESH_TOKEN_EXPIRED"

    await app.auth.logout(current.refresh_token)
    with pytest.raises(Unauthenticated):
        await app.auth.refresh(current.refresh_token)
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.logout("zqrt_unknown")
    assert raised.value.reason == "REFRESH_TOKEN_INVALID"


async def test_api_key_authentication_checks_window_signature_key_state_and_nonce(app):
    alice = await make_user(app, "alice")
    key, secret = await app.api_keys.create(await app.principal(alice), "ci", None)

    for creds, reason in (
        (credentials(app, key.id, secret, age_seconds=301), "SIGNATURE_EXPIRED"),
        (credentials(app, key.id, "zqsk_wrong"), "SIGNATURE_INVALID"),
        (credentials(app, "zqak_ghost", secret), "API_KEY_INVALID"),
    ):
        with pytest.raises(Unauthenticated) as raised:
            await app.auth.authenticate_api_key(creds)
        assert raised.value.reason == reason
    assert app.store.nonces == {}  # rejected requests do not burn nonces

    caller = await app.auth.authenticate_api_key(credentials(app, key.id, secret, age_seconds=290))
    assert (caller.user_id, caller.auth_method) == (alice.id, "api_key")
    assert caller.permissions == frozenset(SEED_ROLES["researcher"][1])
    assert app.store.api_keys[key.id].last_used_at == app.clock.now()
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.authenticate_api_key(credentials(app, key.id, secret, age_seconds=290))
    assert raised.value.reason == "NONCE_REUSED"

    await app.api_keys.revoke(await app.principal(alice), key.id)
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.authenticate_api_key(credentials(app, key.id, secret, nonce="n-2"))
    assert raised.value.reason == "API_KEY_INVALID"


# --- API keys --------------------------------------------------------------------------------------------------


async def test_api_key_secret_is_not_stored_and_expiry_must_be_in_the_future(app):
    alice = await make_user(app, "alice")
    as_alice = await app.principal(alice)
    key, secret = await app.api_keys.create(as_alice, " ci ", None)
    stored = app.store.api_keys[key.id]
    assert key.name == "ci" and stored.hmac_key_encrypted.startswith("sealed:")
    assert hmac_key(secret).hex() not in stored.hmac_key_encrypted and secret not in repr(stored)

    with pytest.raises(InvalidArgument) as raised:
        await app.api_keys.create(as_alice, "old", app.clock.now())
    assert raised.value.field == "expire_time"
    with pytest.raises(InvalidArgument) as raised:
        await app.api_keys.create(as_alice, "  ", None)
    assert raised.value.field == "name"


async def test_another_users_api_key_cannot_be_seen_or_revoked(app):
    alice, bob = await make_user(app, "alice"), await make_user(app, "bob")
    bob_key, _ = await app.api_keys.create(await app.principal(bob), "ci", None)
    as_alice = await app.principal(alice)
    assert await app.api_keys.list(as_alice, None, 10) == ([], False)
    with pytest.raises(NotFound):
        await app.api_keys.revoke(as_alice, bob_key.id)
    assert app.store.api_keys[bob_key.id].revoked_at is None


# --- roles -----------------------------------------------------------------------------------------------------


async def test_seed_is_idempotent_and_gives_admin_new_permissions(app):
    admin = app.store.roles["admin"]
    admin.revoke(["audit:read"])
    del app.store.permissions["audit:read"]
    app.store.roles["viewer"].revoke(["data:read"])  # a local change to a built-in role is kept

    await app.roles.seed()
    await app.roles.seed()
    assert set(app.store.permissions) == set(PERMISSIONS)
    assert app.store.roles["admin"].permissions == sorted(PERMISSIONS)
    assert "data:read" not in app.store.roles["viewer"].permissions
    assert sorted(app.store.roles) == ["admin", "researcher", "viewer"]


async def test_roles_cannot_be_deleted_while_built_in_or_assigned(app):
    await app.roles.create(admin_principal(), "quant", "", ["data:read"])
    alice = await make_user(app, "alice", "quant")
    for name, reason in (("viewer", "BUILTIN_ROLE"), ("quant", "ROLE_IN_USE")):
        with pytest.raises(FailedPrecondition) as raised:
            await app.roles.delete(admin_principal(), name)
        assert raised.value.reason == reason
    await app.roles.assign(admin_principal(), alice.id, "viewer")
    await app.roles.delete(admin_principal(), "quant")
    assert "quant" not in app.store.roles
    with pytest.raises(AlreadyExists):
        await app.roles.create(admin_principal(), "viewer", "", [])


async def test_the_last_admin_cannot_be_demoted_or_stripped(app):
    root = await make_user(app, "root", "admin")
    with pytest.raises(FailedPrecondition) as raised:
        await app.roles.assign(admin_principal(), root.id, "viewer")
    assert raised.value.reason == "LAST_ADMIN"
    with pytest.raises(FailedPrecondition) as raised:
        await app.roles.change_permissions(admin_principal(), "admin", ["user:read"], grant=False)
    assert raised.value.reason == "BUILTIN_ROLE"
    assert app.store.users[root.id].role == "admin"


# --- inbox and audit consumers ---------------------------------------------------------------------------------


def notification_requested(user_id: str, notification_id: str = "n-1") -> Event:
    message = events_pb2.NotificationRequestedEvent(
        notification_id=notification_id, user_id=user_id, title="Backtest done", body="Sharpe 1.2"
    )
    return Event.create("backtest.notification.requested.v1", message)


async def test_notification_requested_twice_is_delivered_once(app):
    alice = await make_user(app, "alice")
    event = notification_requested(alice.id)
    await app.notifications.on_notification_requested(event)
    await app.notifications.on_notification_requested(event)
    (delivered,) = app.store.notifications.values()
    assert (delivered.id, delivered.user_id, delivered.title, delivered.read) == (
        "n-1",
        alice.id,
        "Backtest done",
        False,
    )


async def test_notification_for_a_deleted_user_is_consumed_without_delivery(app):
    event = notification_requested("gone-user")
    await app.notifications.on_notification_requested(event)
    assert app.store.notifications == {}
    assert ("identity-notifications", event.id) in app.store.processed


async def test_audit_recorded_twice_is_stored_once(app):
    record = AuditRecord(
        actor_user_id="u1",
        service="backtest",
        method="/zquant.backtest.v1.BacktestService/RunBacktest",
        target="id=b1",
        result_code="OK",
        client_address="ipv4:127.0.0.1:5000",
        time=app.clock.now(),
    )
    event = to_event(record)
    await app.audit.on_audit_recorded(event)
    await app.audit.on_audit_recorded(event)

    (entry,) = app.store.audit.values()
    assert (entry.actor_user_id, entry.service, entry.method, entry.result_code) == (
        "u1",
        "backtest",
        record.method,
        "OK",
    )
    assert entry.time == record.time
    found, more = await app.audit.list(AuditFilter(actor_user_id="u1"), None, 10)
    assert ([e.id for e in found], more) == ([entry.id], False)
    assert await app.audit.list(AuditFilter(actor_user_id="u2"), None, 10) == ([], False)


async def test_notifications_of_other_users_are_not_found(app):
    alice, bob = await make_user(app, "alice"), await make_user(app, "bob")
    note = await app.notifications.send(bob.id, "for bob", "")
    as_alice = await app.principal(alice)
    for action in (app.notifications.mark_read, app.notifications.delete):
        with pytest.raises(NotFound):
            await action(as_alice, note.id)
    assert await app.notifications.mark_all_read(as_alice) == 0
    assert app.store.notifications[note.id].read is False


async def test_only_an_admin_resets_an_admins_password(app):
    second_admin = await make_user(app, "root2", "admin")
    helpdesk = Principal("h1", "helpdesk", "support", frozenset({"user:update"}))
    with pytest.raises(PermissionDenied) as raised:
        await app.users.reset_password(helpdesk, second_admin.id, "Brand-new-pass-2")
    assert raised.value.reason == "ADMIN_PROTECTED"
    await app.users.reset_password(admin_principal(), second_admin.id, "Brand-new-pass-2")
