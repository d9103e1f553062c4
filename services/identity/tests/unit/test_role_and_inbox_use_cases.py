"""Identity's role, inbox and audit-consumer use cases over in-memory fakes of the ports (see conftest.py): no database, no gRPC."""

from __future__ import annotations

import pytest

from zquant.identity.v1 import events_pb2
from zquant_identity.application.ports import AuditFilter
from zquant_identity.domain.rules import PERMISSIONS
from zquant_kit.audit import AuditRecord, to_event
from zquant_kit.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal
from zquant_kit.testing import root_principal

pytestmark = pytest.mark.unit
ROOT = root_principal(PERMISSIONS)


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
    await app.roles.create(ROOT, "quant", "", ["data:read"])
    alice = await app.make_user("alice", "quant")
    for name, reason in (("viewer", "BUILTIN_ROLE"), ("quant", "ROLE_IN_USE")):
        with pytest.raises(FailedPrecondition) as raised:
            await app.roles.delete(ROOT, name)
        assert raised.value.reason == reason
    await app.roles.assign(ROOT, alice.id, "viewer")
    await app.roles.delete(ROOT, "quant")
    assert "quant" not in app.store.roles
    with pytest.raises(AlreadyExists):
        await app.roles.create(ROOT, "viewer", "", [])


async def test_the_last_admin_cannot_be_demoted_or_stripped(app):
    root = await app.make_user("root", "admin")
    with pytest.raises(FailedPrecondition) as raised:
        await app.roles.assign(ROOT, root.id, "viewer")
    assert raised.value.reason == "LAST_ADMIN"
    with pytest.raises(FailedPrecondition) as raised:
        await app.roles.change_permissions(ROOT, "admin", ["user:read"], grant=False)
    assert raised.value.reason == "BUILTIN_ROLE"
    assert app.store.users[root.id].role == "admin"


# --- inbox and audit consumers ---------------------------------------------------------------------------------


def notification_requested(user_id: str, notification_id: str = "n-1") -> Event:
    message = events_pb2.NotificationRequestedEvent(
        notification_id=notification_id, user_id=user_id, title="Backtest done", body="Sharpe 1.2"
    )
    return Event.create("backtest.notification.requested.v1", message)


async def test_notification_requested_twice_is_delivered_once(app):
    alice = await app.make_user("alice")
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
    alice, bob = await app.make_user("alice"), await app.make_user("bob")
    note = await app.notifications.send(bob.id, "for bob", "")
    as_alice = await app.principal(alice)
    for action in (app.notifications.mark_read, app.notifications.delete):
        with pytest.raises(NotFound):
            await action(as_alice, note.id)
    assert await app.notifications.mark_all_read(as_alice) == 0
    assert app.store.notifications[note.id].read is False


async def test_only_an_admin_resets_an_admins_password(app):
    second_admin = await app.make_user("root2", "admin")
    helpdesk = Principal("h1", "helpdesk", "support", frozenset({"user:update"}))
    with pytest.raises(PermissionDenied) as raised:
        await app.users.reset_password(helpdesk, second_admin.id, "Brand-new-pass-2")
    assert raised.value.reason == "ADMIN_PROTECTED"
    await app.users.reset_password(ROOT, second_admin.id, "Brand-new-pass-2")
