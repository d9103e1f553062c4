"""Free text reaches identity's storage without NUL bytes and within bounds, even when use cases are called
directly; text other services send in events is cleaned instead of refused, so it never blocks a consumer."""

from __future__ import annotations

import pytest

from zquant.identity.v1 import events_pb2
from zquant_identity.domain import rules
from zquant_kit.errors import InvalidArgument
from zquant_kit.events.model import Event
from zquant_kit.testing import USER_PASSWORD, root_principal

pytestmark = pytest.mark.unit

ROOT = root_principal(rules.PERMISSIONS, user_id="root-id")


async def test_notification_title_and_body_refuse_nul(app):
    user = (await app.users.create(ROOT, "alice", "alice@example.com", USER_PASSWORD, "researcher")).user
    for title, body, field in (
        ("a\x00b", "", "title"),
        ("hi", "x\x00", "body"),
        ("hi", "x" * 10_001, "body"),
    ):
        with pytest.raises(InvalidArgument) as raised:
            await app.notifications.send(user.id, title, body)
        assert raised.value.field == field
    assert not app.store.notifications


async def test_role_description_refuses_nul_and_megabytes(app):
    for description in ("a\x00b", "x" * (rules.MAX_ROLE_DESCRIPTION_LENGTH + 1)):
        with pytest.raises(InvalidArgument) as raised:
            await app.roles.create(ROOT, "quant", description, [])
        assert raised.value.field == "description"
        with pytest.raises(InvalidArgument):
            await app.roles.update(ROOT, "viewer", description)


def test_email_with_nul_is_invalid():
    with pytest.raises(InvalidArgument) as raised:
        rules.check_email("a\x00b@example.com")
    assert raised.value.field == "email"


async def test_notification_event_with_nul_is_delivered_cleaned(app):
    user = (await app.users.create(ROOT, "bob", "bob@example.com", USER_PASSWORD, "researcher")).user
    message = events_pb2.NotificationRequestedEvent(
        notification_id="n-1", user_id=user.id, title="a\x00b", body="c\x00"
    )
    await app.notifications.on_notification_requested(Event.create("x.notification.requested.v1", message))
    (delivered,) = app.store.notifications.values()
    assert (delivered.title, delivered.body) == ("a\ufffdb", "c\ufffd")
