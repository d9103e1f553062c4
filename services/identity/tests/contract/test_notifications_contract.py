"""NotificationService contract: the per-user inbox and SendNotification (needs notification:create)."""

from __future__ import annotations

import grpc
import pytest

from zquant.identity.v1 import notification_pb2 as pb
from zquant.identity.v1 import user_pb2
from zquant_kit.grpc.client import bearer
from zquant_kit.pagination import encode_cursor
from zquant_kit.testing import walk_pages

pytestmark = pytest.mark.contract
C = grpc.StatusCode


async def send(identity, admin, user_id: str, title: str, body: str = "") -> pb.Notification:
    request = pb.SendNotificationRequest(user_id=user_id, title=title, body=body)
    return (await identity.notifications.SendNotification(request, metadata=admin)).notification


async def test_notification_rpcs_require_credentials_and_send_needs_permission(
    identity, make_user, expect_error
):
    inbox = identity.notifications
    calls = [
        (inbox.ListNotifications, pb.ListNotificationsRequest()),
        (inbox.MarkNotificationRead, pb.MarkNotificationReadRequest(notification_id="x")),
        (inbox.MarkAllNotificationsRead, pb.MarkAllNotificationsReadRequest()),
        (inbox.DeleteNotification, pb.DeleteNotificationRequest(notification_id="x")),
        (inbox.SendNotification, pb.SendNotificationRequest(user_id="x", title="t")),
    ]
    for rpc, request in calls:
        await expect_error(rpc(request), C.UNAUTHENTICATED)
        await expect_error(rpc(request, metadata=bearer("not.a.jwt")), C.UNAUTHENTICATED)

    rita, researcher = await make_user("rita")
    found = await expect_error(
        inbox.SendNotification(pb.SendNotificationRequest(user_id=rita.id, title="hi"), metadata=researcher),
        C.PERMISSION_DENIED,
    )
    assert "notification:create" in found.message


async def test_send_notification_delivers_to_the_users_inbox(identity, admin, make_user, expect_error):
    rita, researcher = await make_user("rita")
    sent = await send(identity, admin, rita.id, "Backtest done", "Sharpe 1.2")
    assert sent.id and (sent.user_id, sent.title, sent.body, sent.read) == (
        rita.id,
        "Backtest done",
        "Sharpe 1.2",
        False,
    )
    assert sent.HasField("create_time")
    inbox = await identity.notifications.ListNotifications(pb.ListNotificationsRequest(), metadata=researcher)
    assert list(inbox.notifications) == [sent]

    for request, field in (
        (pb.SendNotificationRequest(title="t"), "user_id"),
        (pb.SendNotificationRequest(user_id=rita.id, title=""), "title"),
        (pb.SendNotificationRequest(user_id=rita.id, title="   "), "title"),
        (pb.SendNotificationRequest(user_id=rita.id, title="t" * 201), "title"),
        (pb.SendNotificationRequest(user_id=rita.id, title="t", body="b" * 10_001), "body"),
    ):
        found = await expect_error(
            identity.notifications.SendNotification(request, metadata=admin), C.INVALID_ARGUMENT
        )
        assert found.fields == [field]
    found = await expect_error(
        identity.notifications.SendNotification(
            pb.SendNotificationRequest(user_id="ghost", title="t"), metadata=admin
        ),
        C.NOT_FOUND,
    )
    assert (found.resource_type, found.resource_name) == ("user", "ghost")


async def test_list_notifications_newest_first_across_pages(identity, admin, expect_error):
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    sent = [await send(identity, admin, me.id, f"n{index}") for index in range(5)]

    titles, pages = await walk_pages(
        lambda token: identity.notifications.ListNotifications(
            pb.ListNotificationsRequest(page_size=2, page_token=token), metadata=admin
        ),
        lambda page: page.notifications,
    )
    seen = [n.title for n in titles]
    assert seen == ["n4", "n3", "n2", "n1", "n0"] and pages == 3

    await identity.notifications.MarkNotificationRead(
        pb.MarkNotificationReadRequest(notification_id=sent[4].id), metadata=admin
    )
    unread = await identity.notifications.ListNotifications(
        pb.ListNotificationsRequest(unread_only=True), metadata=admin
    )
    assert [n.title for n in unread.notifications] == ["n3", "n2", "n1", "n0"]

    for request, field in (
        (pb.ListNotificationsRequest(page_token="garbage!"), "page_token"),
        (pb.ListNotificationsRequest(page_token=encode_cursor("users", ["admin"])), "page_token"),
        (
            pb.ListNotificationsRequest(page_token=encode_cursor("notifications", ["not-a-time", "x"])),
            "page_token",
        ),
        (pb.ListNotificationsRequest(page_token=encode_cursor("notifications", ["only-one"])), "page_token"),
        (pb.ListNotificationsRequest(page_size=-1), "page_size"),
    ):
        found = await expect_error(
            identity.notifications.ListNotifications(request, metadata=admin), C.INVALID_ARGUMENT
        )
        assert found.fields == [field]


async def test_mark_read_and_mark_all_read(identity, admin, expect_error):
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    first, _, _ = [await send(identity, admin, me.id, f"n{index}") for index in range(3)]

    marked = await identity.notifications.MarkNotificationRead(
        pb.MarkNotificationReadRequest(notification_id=first.id), metadata=admin
    )
    assert (marked.notification.id, marked.notification.read) == (first.id, True)
    all_read = await identity.notifications.MarkAllNotificationsRead(
        pb.MarkAllNotificationsReadRequest(), metadata=admin
    )
    assert all_read.updated_count == 2
    again = await identity.notifications.MarkAllNotificationsRead(
        pb.MarkAllNotificationsReadRequest(), metadata=admin
    )
    assert again.updated_count == 0

    found = await expect_error(
        identity.notifications.MarkNotificationRead(
            pb.MarkNotificationReadRequest(notification_id="ghost"), metadata=admin
        ),
        C.NOT_FOUND,
    )
    assert (found.resource_type, found.resource_name) == ("notification", "ghost")
    found = await expect_error(
        identity.notifications.MarkNotificationRead(pb.MarkNotificationReadRequest(), metadata=admin),
        C.INVALID_ARGUMENT,
    )
    assert found.fields == ["notification_id"]


async def test_delete_notification_removes_it(identity, admin, expect_error):
    me = (await identity.users.GetMe(user_pb2.GetMeRequest(), metadata=admin)).user
    kept, dropped = await send(identity, admin, me.id, "keep"), await send(identity, admin, me.id, "drop")

    response = await identity.notifications.DeleteNotification(
        pb.DeleteNotificationRequest(notification_id=dropped.id), metadata=admin
    )
    assert response == pb.DeleteNotificationResponse()
    inbox = await identity.notifications.ListNotifications(pb.ListNotificationsRequest(), metadata=admin)
    assert [n.id for n in inbox.notifications] == [kept.id]

    found = await expect_error(
        identity.notifications.DeleteNotification(
            pb.DeleteNotificationRequest(notification_id=dropped.id), metadata=admin
        ),
        C.NOT_FOUND,
    )
    assert (found.resource_type, found.resource_name) == ("notification", dropped.id)
    found = await expect_error(
        identity.notifications.DeleteNotification(pb.DeleteNotificationRequest(), metadata=admin),
        C.INVALID_ARGUMENT,
    )
    assert found.fields == ["notification_id"]
